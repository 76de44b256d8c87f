-- wrk script of row 3: POST /api/v1/introspect, valid and invalid token codes mixed.
--   wrk -t1 -c64 -d10s --latency -s bench/wrk/introspect.lua URL -- SECRET_FILE BODIES_FILE
-- SECRET_FILE: the introspection credential (sent as Authorization: Bearer).
-- BODIES_FILE: one form body per line (`token=<code>`), already mixed by bench/tlbench.py
-- prepare: about half of them valid codes, the rest codes of deleted tokens (well-formed, pass the
-- checksum, not found), codes with a broken checksum and malformed strings.
-- The same script (same requests, same headers) loads the nginx peer, whose `return 200` ignores
-- them. Requests are formatted once in init(), so the Lua side costs one table lookup per request.
-- done() prints one line `WRKJSON {...}` (requests, seconds, latency percentiles, errors).
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
  local secret = lines(args[1])[1]
  local headers = {
    ["Authorization"] = "Bearer " .. secret,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }
  for _, body in ipairs(lines(args[2])) do
    requests[#requests + 1] = wrk.format("POST", wrk.path, headers, body)
  end
  if #requests == 0 then error("no request bodies in " .. args[2]) end
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
