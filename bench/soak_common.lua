-- Shared part of the wrk scripts of bench/soak.sh (loaded with require "soak_common"; soak.sh
-- puts bench/ on LUA_PATH). It counts, per wrk thread, the requests sent (request() calls
-- that put a request on the wire), the responses by status class and the 5xx answers, and prints the totals in
-- done() as lines "soak: NAME VALUE" that soak.sh parses:
--   soak: sent N        requests handed to the socket (the figure the audit trail must match)
--   soak: completed N   responses received (wrk's own "requests" figure)
--   soak: 2xx/3xx/4xx/5xx N, soak: status-S N (each status seen), soak: accepted N (ingest)
local M = {}

-- Ingest scripts set this: 200 answers are then scanned for "accepted": N.
M.count_accepted = false

local threads = {}

-- The load lasts SOAK_LOAD_SECONDS from the thread's start; wrk runs a few seconds longer
-- (-d), and delay() holds every request that would start after the deadline. So nothing is
-- in flight when wrk stops, and every request sent was answered: the audit trail can be
-- compared with the sent count exactly.
local deadline = nil

function M.start()
  deadline = os.time() + tonumber(M.env("SOAK_LOAD_SECONDS"))
end

-- wrk calls delay() before every request it sends, and request() once more at start-up on its
-- first thread, only to look at the request (nothing is sent then): that call comes before any
-- delay() and is not counted.
local running = false

function M.delay()
  running = true
  if deadline ~= nil and os.time() >= deadline then
    return 3600000
  end
  return 0
end

-- Per-thread counters: globals of the thread's Lua state, read back with thread:get().
soak_sent = 0
soak_done = 0
soak_c2 = 0
soak_c3 = 0
soak_c4 = 0
soak_c5 = 0
soak_accepted = 0
soak_statuses = ""
local seen = {}

function M.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then
    if default == nil then
      error("soak: the environment variable " .. name .. " is not set")
    end
    return default
  end
  return v
end

-- Splits S at every SEP (a plain character): "a|b" -> {"a", "b"}.
function M.split(s, sep)
  local out = {}
  for part in string.gmatch(s, "[^" .. sep .. "]+") do
    out[#out + 1] = part
  end
  return out
end

-- The Authorization header from the token in the environment variable named by SOAK_TOKEN_ENV
-- (LT_SOAK_TOKEN when unset).
function M.auth_headers()
  local token = M.env(M.env("SOAK_TOKEN_ENV", "LT_SOAK_TOKEN"))
  return { ["Authorization"] = "Bearer " .. token }
end

function M.setup(thread)
  thread:set("soak_id", #threads)
  threads[#threads + 1] = thread
end

-- Call from request(): one more request on the wire (delay() let it start).
function M.sent()
  if running then
    soak_sent = soak_sent + 1
  end
end

local function count_status(status)
  local key = tostring(status)
  if not seen[key] then
    seen[key] = 0
  end
  seen[key] = seen[key] + 1
  local parts = {}
  for k, v in pairs(seen) do
    parts[#parts + 1] = k .. "=" .. v
  end
  soak_statuses = table.concat(parts, ",")
end

function M.response(status, headers, body)
  soak_done = soak_done + 1
  if status >= 500 then
    soak_c5 = soak_c5 + 1
  elseif status >= 400 then
    soak_c4 = soak_c4 + 1
  elseif status >= 300 then
    soak_c3 = soak_c3 + 1
  else
    soak_c2 = soak_c2 + 1
  end
  if status ~= 200 then
    count_status(status)
  end
  if M.count_accepted and body ~= nil and status == 200 then
    local n = string.match(body, '"accepted"%s*:%s*(%d+)')
    if n ~= nil then
      soak_accepted = soak_accepted + tonumber(n)
    end
  end
end

function M.done(summary, latency, requests)
  local t = { sent = 0, done = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, accepted = 0 }
  local statuses = {}
  for _, thread in ipairs(threads) do
    t.sent = t.sent + thread:get("soak_sent")
    t.done = t.done + thread:get("soak_done")
    t.c2 = t.c2 + thread:get("soak_c2")
    t.c3 = t.c3 + thread:get("soak_c3")
    t.c4 = t.c4 + thread:get("soak_c4")
    t.c5 = t.c5 + thread:get("soak_c5")
    t.accepted = t.accepted + thread:get("soak_accepted")
    for k, v in string.gmatch(thread:get("soak_statuses") or "", "(%d+)=(%d+)") do
      statuses[k] = (statuses[k] or 0) + tonumber(v)
    end
  end
  io.write(string.format("soak: sent %d\n", t.sent))
  io.write(string.format("soak: completed %d\n", t.done))
  io.write(string.format("soak: 2xx %d\nsoak: 3xx %d\nsoak: 4xx %d\nsoak: 5xx %d\n",
    t.c2, t.c3, t.c4, t.c5))
  io.write(string.format("soak: accepted %d\n", t.accepted))
  for k, v in pairs(statuses) do
    io.write(string.format("soak: status-%s %d\n", k, v))
  end
  io.write(string.format("soak: timeouts %d\n", summary.errors.timeout))
end

return M
