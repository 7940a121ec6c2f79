-- Replays request lines from a file (METHOD<TAB>PATH[<TAB>BODY]), round-robin from a random
-- start per thread, with the bearer token from BENCH_TOKEN, and prints the summary as JSON.
local lines = {}
local position = 0
local token = os.getenv("BENCH_TOKEN")

function init(args)
  for line in io.lines(args[1]) do
    local method, path, body = line:match("^(%u+)\t([^\t]+)\t?(.*)$")
    lines[#lines + 1] = { method = method, path = path, body = body ~= "" and body or nil }
  end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16))
  position = math.random(#lines) - 1
end

function request()
  position = position % #lines + 1
  local line = lines[position]
  local headers = { ["Accept"] = "application/json" }
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  if line.body then headers["Content-Type"] = "application/json" end
  return wrk.format(line.method, line.path, headers, line.body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"socket_errors":%d,"bad_status":%d,' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
