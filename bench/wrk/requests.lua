-- The wrk script of rows 2 and 3: one set of requests, formatted once in init() (so the Lua side
-- costs one table lookup per request) and sent round-robin from a random start; done() prints one
-- line `WRKJSON {...}` (requests, seconds, latency percentiles, errors).
--   wrk -t1 -c64 -d10s --latency -s bench/wrk/requests.lua URL -- MODE CREDENTIAL_FILE ITEMS_FILE
-- MODE reveal (row 2): POST /api/v1/tokens/{id}/reveal as the tokens' owner. CREDENTIAL_FILE: one
--   line `tl_session=<value>` (the session cookie); ITEMS_FILE: one token id per line. URL is the
--   server's base (http://127.0.0.1:PORT). Round-robin over many tokens, so that concurrent
--   reveals almost never hit the same token (they would serialise on its stream version). A
--   request without Origin is same-origin for the server's CSRF rule. The server must run with
--   --reveal-rate 0 (run.sh does): the default limit of 600 reveals a minute per user would answer
--   most of these 429.
-- MODE introspect (row 3): POST URL (the introspection endpoint). CREDENTIAL_FILE: the
--   introspection credential (sent as Authorization: Bearer); ITEMS_FILE: one form body per line
--   (`token=<code>`), already mixed by bench/tlbench.py prepare: about half of them valid codes, the
--   rest codes of deleted tokens (well-formed, pass the checksum, not found), codes with a broken
--   checksum and malformed strings. The same requests load the nginx peer, whose `return 200`
--   ignores them.
local requests = {}
local i = 0

local function lines(path)
  local out = {}
  for line in io.lines(path) do
    if #line > 0 then out[#out + 1] = line end
  end
  return out
end

-- Each mode: the request of one item line, given the first line of the credential file.
local modes = {
  reveal = function(cookie, id)
    return wrk.format("POST", "/api/v1/tokens/" .. id .. "/reveal", { ["Cookie"] = cookie, ["Content-Length"] = "0" })
  end,
  introspect = function(secret, body)
    local headers = {
      ["Authorization"] = "Bearer " .. secret,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }
    return wrk.format("POST", wrk.path, headers, body)
  end,
}

function init(args)
  local make = modes[args[1]]
  if make == nil then error("mode: reveal or introspect, not " .. tostring(args[1])) end
  local credential = lines(args[2])[1]
  for _, item in ipairs(lines(args[3])) do
    requests[#requests + 1] = make(credential, item)
  end
  if #requests == 0 then error("no request items in " .. args[3]) end
  i = math.random(#requests)
end

function request()
  i = i % #requests + 1
  return requests[i]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"seconds":%.6f,"rps":%.3f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
