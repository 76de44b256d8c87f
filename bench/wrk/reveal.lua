-- wrk script of row 2: POST /api/v1/tokens/{id}/reveal as the token's owner (session cookie),
-- round-robin over many tokens so that concurrent reveals almost never hit the same token (they
-- would serialise on its stream version).
--   wrk -t1 -c64 -d10s --latency -s bench/wrk/reveal.lua URL -- COOKIE_FILE IDS_FILE
-- COOKIE_FILE: one line `tl_session=<value>`; IDS_FILE: one token id per line.
-- URL is the server's base (http://127.0.0.1:PORT). A request without Origin is same-origin for
-- the server's CSRF rule. done() prints one line `WRKJSON {...}`.
-- The server must run with --reveal-rate 0 (run.sh does): the default limit of 600 reveals a minute
-- per user would answer most of these 429.
local requests = {}
local i = 0

local function lines(path)
  local out = {}
  for line in io.lines(path) do
    if #line > 0 then out[#out + 1] = line end
  end
  return out
end

function init(args)
  local cookie = lines(args[1])[1]
  local headers = { ["Cookie"] = cookie, ["Content-Length"] = "0" }
  for _, id in ipairs(lines(args[2])) do
    requests[#requests + 1] = wrk.format("POST", "/api/v1/tokens/" .. id .. "/reveal", headers)
  end
  if #requests == 0 then error("no token ids in " .. args[2]) end
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
