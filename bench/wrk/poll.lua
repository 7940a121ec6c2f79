-- Polls the URL wrk is given as a screen does: the bearer token from BENCH_TOKEN and
-- If-None-Match from BENCH_ETAG on every request. Counts the 304s of every thread and prints
-- the summary as JSON.
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
wrk.headers["If-None-Match"] = os.getenv("BENCH_ETAG")

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  not_modified = 0
end

function response(status, headers, body)
  if status == 304 then not_modified = not_modified + 1 end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("not_modified") end
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"socket_errors":%d,"bad_status":%d,' ..
    '"p50_us":%d,"p95_us":%d,"p99_us":%d,"not_modified":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), total))
end
