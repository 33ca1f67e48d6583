-- wrk script for bench/citus: sign-ups, each with a new organization slug (unique per thread,
-- run and request). Prints the same one-line JSON summary as bench/wrk.lua.
local counter = 0
local threads = {}
local run = os.getenv("BENCH_RUN") or tostring(os.time())

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local slug = string.format("s%s-%d-%d", run, thread_id or 0, counter)
  local body = string.format(
    '{"org_name": "Org %s", "org_slug": "%s", "email": "owner@%s.test", "display_name": "Owner", "password": "bench password"}',
    slug, slug, slug)
  return wrk.format("POST", "/v1/auth/signup", { ["Content-Type"] = "application/json" }, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors,
    latency:percentile(50), latency:percentile(99), latency.max))
end
