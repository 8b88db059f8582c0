-- wrk script for `python -m bench.run signup`: one new account per request.
--
--   SIGNUP_NONCE=<run id> CSRF_COOKIE=<csrftoken cookie> CSRF_TOKEN=<csrfToken> \
--     wrk -t2 -c32 -d10s --latency -s bench/signup.lua http://127.0.0.1:PORT
--
-- Emails are bench-<nonce>-t<thread>-<counter>@signup-bench.example.com: unique across the
-- threads of a run (thread number) and across runs (nonce), so every request creates a user.
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
local body_format = '{"email": "bench-%s-t%d-%d@signup-bench.example.com", '
  .. '"first_name": "Camille", "last_name": "Martin", "postal_code": "69007", '
  .. '"birth_date": "1990-05-01", "consent": true}'

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
