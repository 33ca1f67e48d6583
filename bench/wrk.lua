-- wrk script for the Tenantry benchmark. BENCH_ENDPOINT picks the request (me, users, project,
-- create, patch, login, and me-key: GET /v1/me with an API key); BENCH_TARGETS names the targets
-- file written by tokens.py, BENCH_KEYS the API keys written by keys.py (one per organization).
--
-- Every request draws its caller at random, uniformly over every user of every organization
-- (the token of user u of organization o is record (o - 1) * users + (u - 1) of the tokens
-- file), and a project at random, uniformly over the organization's projects: the same
-- distribution as the pgbench scripts (pgbench.py). A PATCH goes to a random project of the
-- caller's own. Each thread seeds its own generator.
--
-- Every answer outside 200-299 is counted (wrk itself counts only >= 400): any error voids the
-- figure. The summary is one JSON line, for the harness.
local endpoint = os.getenv("BENCH_ENDPOINT")
local targets_file = os.getenv("BENCH_TARGETS")
local t, tokens, keys
local threads = {}
non2xx = 0 -- globals: done() reads them from each thread
statuses = {} -- the count of each status outside 200-299
local random, format, sub, tonumber = math.random, string.format, string.sub, tonumber

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  t = dofile(targets_file)
  -- The whole file, in memory (the large set's is 512 MB): reading a record per request costs
  -- more than the request's own share of wrk. wrk runs each thread's init() before starting
  -- the next thread but starts its clock after the last one, so the harness runs one thread:
  -- with two, the first would work off the clock while the second loads.
  local f = assert(io.open(t.tokens, "rb"))
  tokens = f:read("*a")
  f:close()
  local keys_file = os.getenv("BENCH_KEYS")
  if endpoint == "me-key" then
    local k = assert(io.open(assert(keys_file, "me-key needs BENCH_KEYS"), "rb"))
    keys = k:read("*a")
    k:close()
  end
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919 + math.floor(os.clock() * 1e6))
end

local function caller()
  local o, u = random(1, t.orgs), random(1, t.users)
  local offset = ((o - 1) * t.users + (u - 1)) * t.record
  local length = tonumber(sub(tokens, offset + 1, offset + 3))
  return o, u, "Bearer " .. sub(tokens, offset + 4, offset + 3 + length)
end

-- The API key of organization o (record o - 1 of the keys file).
local function api_key(o)
  local offset = (o - 1) * t.record
  local length = tonumber(sub(keys, offset + 1, offset + 3))
  return "Bearer " .. sub(keys, offset + 4, offset + 3 + length)
end

local function project_id(o, p)
  return t.project_prefix .. format("%012x", o * t.project_per_org + p * t.project_per_number)
end

local function project(o)
  return project_id(o, random(1, t.projects))
end

-- A project of user u: seed.sql gives project p to user 1 + (p - 1) % users (members may
-- change only their own projects).
local function own_project(o, u)
  return project_id(o, u + t.users * random(0, math.floor((t.projects - u) / t.users)))
end

local counter = 0

function request()
  counter = counter + 1
  local o, u, bearer = caller()
  local headers = { ["Authorization"] = bearer }
  if endpoint == "me" then
    return wrk.format("GET", "/v1/me", headers)
  elseif endpoint == "me-key" then
    return wrk.format("GET", "/v1/me", { ["Authorization"] = api_key(o) })
  elseif endpoint == "users" then
    return wrk.format("GET", "/v1/users?limit=20", headers)
  elseif endpoint == "project" then
    return wrk.format("GET", "/v1/projects/" .. project(o), headers)
  elseif endpoint == "create" then
    headers["Content-Type"] = "application/json"
    local body = format('{"name": "bench %d-%d-%d-%d"}', thread_id or 0, os.time(), counter, random(1, 1000000000))
    return wrk.format("POST", "/v1/projects", headers, body)
  elseif endpoint == "patch" then
    headers["Content-Type"] = "application/json"
    headers["If-Match"] = "*"
    return wrk.format("PATCH", "/v1/projects/" .. own_project(o, u), headers, format('{"description": "edit %d"}', counter))
  elseif endpoint == "login" then
    local body = format('{"org_slug": "org-%d", "email": "u%d@org%d.test", "password": "bench password"}', o, u, o)
    return wrk.format("POST", "/v1/auth/login", { ["Content-Type"] = "application/json" }, body)
  end
  error("unknown BENCH_ENDPOINT " .. tostring(endpoint))
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total, seen = 0, {}
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + thread:get("non2xx")
    for status, count in pairs(thread:get("statuses")) do
      seen[status] = (seen[status] or 0) + count
    end
  end
  local by_status = {}
  for status, count in pairs(seen) do
    table.insert(by_status, format('"%d": %d', status, count))
  end
  local e = summary.errors
  io.write(format(
    'BENCH {"requests": %d, "duration_us": %d, "socket_errors": %d, "non2xx": %d, "statuses": {%s}, "p50_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, non2xx_total,
    table.concat(by_status, ", "), latency:percentile(50), latency:percentile(99), latency.max))
end
