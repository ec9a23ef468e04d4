-- wrk script for bench/ingest.py: one Segment track call (or one native event) per request,
-- each with its own message id, to the path in BENCH_PATH with BENCH_AUTH as Authorization.
-- Prints one JSON line: requests/s, latency percentiles (ms) and non-2xx answers.
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  path = os.getenv("BENCH_PATH")
  native = os.getenv("BENCH_NATIVE") == "1"
  counter = 0
  failures = 0
  headers = {["Content-Type"] = "application/json", ["Authorization"] = os.getenv("BENCH_AUTH")}
end

function request()
  counter = counter + 1
  local user, account = counter % 50000, counter % 5000
  local body
  if native then
    body = string.format('[{"account_external_id":"acct-%d","user_external_id":"user-%d","activity":"Viewed dashboard","module":"Dashboards","message_id":"wrk-%d-%d"}]', account, user, tid, counter)
  else
    body = string.format('{"type":"track","event":"Viewed dashboard","userId":"user-%d","context":{"groupId":"acct-%d"},"properties":{"module":"Dashboards"},"messageId":"wrk-%d-%d"}', user, account, tid, counter)
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("failures")
  end
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"p50_ms":%.2f,"p95_ms":%.2f,"p99_ms":%.2f,"failed":%d,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, failed,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
