-- tests/soak/soak.lua - the paced, mixed load of tests/soak/run (wrk 4.1 with LuaJIT).
--
-- Each wrk thread sends SOAK_RATE requests per second in all (its share of the target rate), in a
-- repeating pattern given by SOAK_MIX "I:M:J" (default 5:4:1):
--   I  POST /api/v1/public/token with the body of SOAK_BODY (the file bench/run and the maximum
--      measurement use: @EMAIL@ and @GROUPS@ filled in), SOAK_ACCESS, groups SOAK_GROUPS, for one
--      of SOAK_USERS emails;
--   M  GET /api/v1/me with a session token this thread was issued earlier in the run (a random one
--      of the last 4096; an issuance until the first token arrives);
--   J  GET /.well-known/jwks.json.
-- Pacing: delay() hands each request a slot on the thread's schedule (one every 1000/SOAK_RATE ms)
-- and waits until it comes; a stall may be caught up for at most one second of slots. So the rate is
-- the target as long as the connections suffice (wrk -c); tests/soak/run checks what it achieved.
--
-- response() classifies each reply by its body (access_token / keys / data) and counts 2xx and
-- non-2xx per kind; every second each thread writes its cumulative counts to SOAK_PROGRESS.<thread>
-- ("requests issued me jwks non2xx unclassified"), which the sampler reads. The first 20 non-2xx replies go to
-- SOAK_PROGRESS.<thread>.errors. done() prints "SOAK_RESULT {json}" with wrk's totals.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
  int clock_gettime(int clk_id, soak_timespec *tp);
]]
local ts = ffi.new("soak_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  threads[#threads + 1] = thread
end

-- ---- per thread ----------------------------------------------------------------------------------
local interval, next_at           -- pacing (ms)
local pattern, pos = {}, 0        -- "I", "M", "J" in turn
local issue_auth, body_head, body_tail -- body = body_head .. email .. body_tail
local users, counter = 50000, 0
local ring, ring_n, RING = {}, 0, 4096
local me_paths = "/api/v1/me"
local progress_file, errors_file, last_write = nil, nil, 0
n_requests, n_issued, n_me, n_jwks, n_non2xx, n_other = 0, 0, 0, 0, 0, 0
local errors_written = 0

function init(args)
  local rate = tonumber(os.getenv("SOAK_RATE")) or error("SOAK_RATE is not set")
  interval = 1000 / rate
  next_at = now_ms()
  users = tonumber(os.getenv("SOAK_USERS")) or users
  issue_auth = "Bearer " .. (os.getenv("SOAK_ACCESS") or error("SOAK_ACCESS is not set"))
  local groups = {}
  for g in (os.getenv("SOAK_GROUPS") or ""):gmatch("[^,]+") do groups[#groups + 1] = '"' .. g .. '"' end
  local f = assert(io.open(os.getenv("SOAK_BODY") or error("SOAK_BODY is not set"), "r"))
  local body = f:read("*a"):gsub("%s+$", "")
  f:close()
  local e1, e2 = body:find("@EMAIL@", 1, true)
  assert(e1, "SOAK_BODY needs @EMAIL@")
  body = body:sub(1, e1 - 1) .. "soak@EMAIL@@customer.example" .. body:sub(e2 + 1)
  body = body:gsub("@GROUPS@", function() return "[" .. table.concat(groups, ",") .. "]" end)
  e1, e2 = body:find("@EMAIL@", 1, true)
  body_head, body_tail = body:sub(1, e1 - 1), body:sub(e2 + 1)
  local mix = os.getenv("SOAK_MIX") or "5:4:1"
  local i, m, j = mix:match("^(%d+):(%d+):(%d+)$")
  i, m, j = tonumber(i), tonumber(m), tonumber(j)
  assert(i and m and j and i + m + j > 0, "SOAK_MIX must be I:M:J")
  -- Interleave: spread each kind over the pattern rather than in runs.
  local total = i + m + j
  local acc = { I = 0, M = 0, J = 0 }
  local want = { I = i / total, M = m / total, J = j / total }
  for k = 1, total do
    local best, bestv = nil, -1
    for _, kind in ipairs({ "I", "M", "J" }) do
      local v = want[kind] * k - acc[kind]
      if v > bestv then best, bestv = kind, v end
    end
    acc[best] = acc[best] + 1
    pattern[#pattern + 1] = best
  end
  local id = wrk.thread:get("thread_id") or 1
  local base = os.getenv("SOAK_PROGRESS")
  if base then
    progress_file = base .. "." .. id
    errors_file = base .. "." .. id .. ".errors"
  end
  counter = id * 1000003 -- threads start at different users
end

function delay()
  local now = now_ms()
  next_at = next_at + interval
  if next_at < now - 1000 then next_at = now - 1000 end -- catch up at most 1 s of slots
  local d = next_at - now
  if d <= 0 then return 0 end
  return math.floor(d)
end

function request()
  pos = pos % #pattern + 1
  local kind = pattern[pos]
  if kind == "M" and ring_n == 0 then kind = "I" end
  if kind == "I" then
    counter = counter + 1
    return wrk.format("POST", "/api/v1/public/token",
      { ["Authorization"] = issue_auth, ["Content-Type"] = "application/json" },
      body_head .. (counter % users) .. body_tail)
  elseif kind == "M" then
    local tok = ring[math.random(1, math.min(ring_n, RING))]
    return wrk.format("GET", me_paths, { ["Authorization"] = "Bearer " .. tok }, nil)
  else
    return wrk.format("GET", "/.well-known/jwks.json", nil, nil)
  end
end

local function write_progress()
  if not progress_file then return end
  local f = io.open(progress_file .. ".tmp", "w")
  if f then
    f:write(string.format("%d %d %d %d %d %d\n", n_requests, n_issued, n_me, n_jwks, n_non2xx, n_other))
    f:close()
    os.rename(progress_file .. ".tmp", progress_file)
  end
end

function response(status, headers, body)
  n_requests = n_requests + 1
  if status < 200 or status > 299 then
    n_non2xx = n_non2xx + 1
    if errors_file and errors_written < 20 then
      errors_written = errors_written + 1
      local f = io.open(errors_file, "a")
      if f then
        f:write(status, " ", (body or ""):sub(1, 300), "\n")
        f:close()
      end
    end
  else
    local head = (body or ""):sub(1, 16)
    if head:find('"access_token"', 1, true) then
      n_issued = n_issued + 1
      local tok = body:match('"access_token":"([^"]+)"')
      if tok then
        ring_n = ring_n + 1
        ring[(ring_n - 1) % RING + 1] = tok
      end
    elseif head:find('"keys"', 1, true) then
      n_jwks = n_jwks + 1
    elseif head:find('"data"', 1, true) then
      n_me = n_me + 1
    else
      n_other = n_other + 1
    end
  end
  local now = now_ms()
  if now - last_write >= 1000 then
    last_write = now
    write_progress()
  end
end

function done(summary, latency, requests)
  local t = { requests = 0, issued = 0, me = 0, jwks = 0, non2xx = 0, other = 0 }
  for _, th in ipairs(threads) do
    t.requests = t.requests + (th:get("n_requests") or 0)
    t.issued = t.issued + (th:get("n_issued") or 0)
    t.me = t.me + (th:get("n_me") or 0)
    t.jwks = t.jwks + (th:get("n_jwks") or 0)
    t.non2xx = t.non2xx + (th:get("n_non2xx") or 0)
    t.other = t.other + (th:get("n_other") or 0)
  end
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'SOAK_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"counted":{"responses":%d,"issued":%d,"me":%d,"jwks":%d,"non2xx":%d,"unclassified":%d}}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout,
    t.requests, t.issued, t.me, t.jwks, t.non2xx, t.other))
end
