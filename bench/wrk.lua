-- wrk script for the Tenantry benchmark. BENCH_ENDPOINT picks the request (me, users, project,
-- create, patch, login); BENCH_TARGETS names the file of tokens and ids (tokens.py). Requests
-- rotate over the targets, so they spread over many organizations. The summary is one JSON
-- line, for report.py.
local endpoint = os.getenv("BENCH_ENDPOINT")
local targets_file = os.getenv("BENCH_TARGETS")
local targets
local counter = 0
local threads = {}
-- `thread_id` is a global that setup() gives each thread.

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  targets = dofile(targets_file)
  counter = (thread_id or 0) * 7919
  math.randomseed(os.time() * 100 + (thread_id or 0))
end

function request()
  counter = counter + 1
  local t = targets[(counter % #targets) + 1]
  local auth = { ["Authorization"] = "Bearer " .. t.token }
  if endpoint == "me" then
    return wrk.format("GET", "/v1/me", auth)
  elseif endpoint == "users" then
    return wrk.format("GET", "/v1/users?limit=20", auth)
  elseif endpoint == "project" then
    return wrk.format("GET", "/v1/projects/" .. t.project, auth)
  elseif endpoint == "create" then
    auth["Content-Type"] = "application/json"
    local body = string.format('{"name": "bench %d-%d-%d-%d"}', thread_id or 0, os.time(), counter, math.random(1, 1000000000))
    return wrk.format("POST", "/v1/projects", auth, body)
  elseif endpoint == "patch" then
    auth["Content-Type"] = "application/json"
    auth["If-Match"] = "*"
    local body = string.format('{"description": "edit %d"}', counter)
    return wrk.format("PATCH", "/v1/projects/" .. t.project, auth, body)
  elseif endpoint == "login" then
    local body = string.format(
      '{"org_slug": "org-%d", "email": "u%d@org%d.test", "password": "bench password"}',
      t.org, t.user, t.org)
    return wrk.format("POST", "/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
  end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors,
    latency:percentile(50), latency:percentile(99), latency.max))
end
