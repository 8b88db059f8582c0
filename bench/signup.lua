-- wrk script for `python -m bench.run signup`: one new account per request.
--
--   SIGNUP_NONCE=<run id> CSRF_COOKIE=<csrftoken cookie> CSRF_TOKEN=<csrfToken> \
--   SIGNUP_BODY_FORMAT=<JSON body> wrk -t2 -c32 -d10s --latency -s bench/signup.lua URL
--
-- SIGNUP_BODY_FORMAT is bench/harness.py's signup_payload() with the email
-- bench-%s-t%d-%d@signup-bench.example.com, filled in with the nonce, the thread number and
-- a counter (harness.run_signups sets it): unique across the threads of a run and across runs
-- (nonce), so every request creates a user.
-- done() prints one `BENCH_JSON {...}` line: exact p50/p90/p95/p99 (wrk's text output has no
-- p95), the status codes seen by response(), and wrk's socket error counters.

local nonce = os.getenv("SIGNUP_NONCE") or tostring(os.time())
local cookie = os.getenv("CSRF_COOKIE") or ""
local token = os.getenv("CSRF_TOKEN") or ""

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

-- Globals, not locals: done() reads them from each thread with thread:get().
counter = 0
statuses = {}
local headers = {
  ["Host"] = "localhost",
  ["Content-Type"] = "application/json",
  ["Cookie"] = "csrftoken=" .. cookie,
  ["X-CSRFToken"] = token,
}
local body_format = assert(os.getenv("SIGNUP_BODY_FORMAT"), "SIGNUP_BODY_FORMAT is not set")

function request()
  counter = counter + 1
  local body = string.format(body_format, nonce, thread_no, counter)
  return wrk.format("POST", "/api/v1/signup", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local seen = {}
  local sent = 0
  for _, thread in ipairs(threads) do
    sent = sent + (thread:get("counter") or 0)
    for status, count in pairs(thread:get("statuses") or {}) do
      seen[tostring(status)] = (seen[tostring(status)] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(seen) do
    table.insert(parts, string.format('"%s": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "requests_generated": %d, '
      .. '"statuses": {%s}, "errors": {"connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p90": %d, "p95": %d, '
      .. '"p99": %d, "mean": %.1f, "max": %d}}\n',
    summary.requests, summary.duration, sent, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.mean, latency.max))
end
