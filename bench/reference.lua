-- wrk script for the reference of `python -m bench.run signup` (GET /_ping): wrk's own
-- request, nothing added per request; done() prints one `BENCH_JSON {...}` line with exact
-- p50/p90/p95/p99 (wrk's text output has no p95) and wrk's error counters (`status` counts
-- the responses that were not 2xx/3xx).
-- search.lua loads this file for its done().

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, '
      .. '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p90": %d, '
      .. '"p95": %d, "p99": %d, "mean": %.1f, "max": %d}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.mean, latency.max))
end
