-- wrk.lua - the one wrk script of bench/run, configured by environment variables
-- (wrk decides whether a script is dynamic before init() sees its arguments, so
-- the mode has to be known at load time):
--
--   BENCH_MODE=static   the same request every time (URL, -H headers); wrk builds it once
--   BENCH_MODE=token    POST with a token request body: BENCH_BODY is a file holding the JSON
--                       body with the placeholders @EMAIL@ and @GROUPS@; BENCH_TOKENS a file of
--                       lines "<access token> <groupId>,<groupId>" used in turn (one line: one
--                       token). Every request gets a new email address.
--   BENCH_MODE=pool     GET with "Authorization: Bearer <line>", cycling through the lines of
--                       BENCH_POOL (session tokens); the requests are formatted once, at init.
--
-- done() prints one line "BENCH_RESULT {json}" on stdout: requests, duration, req/s, latency
-- percentiles (microseconds) and wrk's error counts (status = non-2xx/3xx replies).

local mode = os.getenv("BENCH_MODE") or "static"

local function read_lines(path)
  local t = {}
  local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in f:lines() do
    if line ~= "" then t[#t + 1] = line end
  end
  f:close()
  assert(#t > 0, path .. " is empty")
  return t
end

if mode == "token" then
  local prefix, middle, suffix -- body = prefix .. email .. middle .. groups .. suffix
  local tokens = {}            -- { auth = "Bearer ...", groups = '["...","..."]' }
  local counter = 0
  local run = os.getenv("BENCH_RUN") or "0"

  function init(args)
    local f = assert(io.open(os.getenv("BENCH_BODY"), "r"))
    local body = f:read("*a"):gsub("%s+$", "")
    f:close()
    local e1, e2 = body:find("@EMAIL@", 1, true)
    local g1, g2 = body:find("@GROUPS@", 1, true)
    assert(e1 and g1 and e1 < g1, "BENCH_BODY needs @EMAIL@ before @GROUPS@")
    prefix, middle, suffix = body:sub(1, e1 - 1), body:sub(e2 + 1, g1 - 1), body:sub(g2 + 1)
    for _, line in ipairs(read_lines(os.getenv("BENCH_TOKENS"))) do
      local tok, groups = line:match("^(%S+)%s*(%S*)$")
      local list = {}
      for g in (groups or ""):gmatch("[^,]+") do list[#list + 1] = '"' .. g .. '"' end
      tokens[#tokens + 1] = { auth = "Bearer " .. tok, groups = "[" .. table.concat(list, ",") .. "]" }
    end
  end

  function request()
    counter = counter + 1
    local t = tokens[(counter % #tokens) + 1]
    local email = "user" .. counter .. "-r" .. run .. "@customer.example"
    local body = prefix .. email .. middle .. t.groups .. suffix
    return wrk.format("POST", nil, {
      ["Authorization"] = t.auth,
      ["Content-Type"] = "application/json",
    }, body)
  end
elseif mode == "pool" then
  local reqs = {}
  local i = 0

  function init(args)
    for _, tok in ipairs(read_lines(os.getenv("BENCH_POOL"))) do
      reqs[#reqs + 1] = wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tok }, nil)
    end
  end

  function request()
    i = i + 1
    if i > #reqs then i = 1 end
    return reqs[i]
  end
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_s":%.3f,"rps":%.1f,' ..
    '"p50_us":%d,"p75_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
