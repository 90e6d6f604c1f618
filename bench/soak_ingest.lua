-- wrk script of bench/soak.sh: pushes small exchange envelopes
-- (application/vnd.lienthong.exchange+json) to POST /v1/services/SOAK_SERVICE/records.
-- Every push carries SOAK_INGEST_RECORDS indicator observations under keys no earlier push
-- used (indicator x area x monthly period, counted on from the push number), so every push
-- writes; its message_id is new too. Environment: SOAK_SERVICE, SOAK_PROVIDER, SOAK_CONTRACT,
-- SOAK_INDICATORS and SOAK_AREAS (codes separated by ","), SOAK_LOAD_SECONDS, SOAK_RUN (makes message ids unique
-- across runs), SOAK_INGEST_RECORDS (default 4), SOAK_WRK_THREADS (wrk's -t, default 1), the
-- token as in soak_common.lua.
local soak = require "soak_common"
soak.count_accepted = true

local headers, path, indicators, areas, per_push, prefix, run, nthreads

function setup(thread)
  soak.setup(thread)
end

function init(args)
  soak.start()
  headers = soak.auth_headers()
  headers["Content-Type"] = "application/vnd.lienthong.exchange+json"
  path = "/v1/services/" .. soak.env("SOAK_SERVICE") .. "/records"
  indicators = soak.split(soak.env("SOAK_INDICATORS"), ",")
  areas = soak.split(soak.env("SOAK_AREAS"), ",")
  per_push = tonumber(soak.env("SOAK_INGEST_RECORDS", "4"))
  nthreads = tonumber(soak.env("SOAK_WRK_THREADS", "1"))
  run = soak.env("SOAK_RUN")
  prefix = string.format('{"header":{"service":"%s","provider":"%s","contract":"%s",',
    soak.env("SOAK_SERVICE"), soak.env("SOAK_PROVIDER"), soak.env("SOAK_CONTRACT"))
end

-- The i-th observation of this thread: a fresh key for every i below
-- #areas x #indicators x 96,000 months (the years 2000-9999).
local function record(i)
  local area = areas[i % #areas + 1]
  local rest = math.floor(i / #areas)
  local indicator = indicators[rest % #indicators + 1]
  local month = math.floor(rest / #indicators)
  local period = string.format("%04d-M%02d", 2000 + math.floor(month / 12) % 8000, month % 12 + 1)
  return string.format('{"indicator":"%s","area":"%s","period":"%s","value":%d.%d,'
    .. '"status":"ok","unit":"soak"}', indicator, area, period, i % 100000, i % 10)
end

local n = 0
function request()
  local id = soak_id or 0
  local recs = {}
  for j = 0, per_push - 1 do
    -- threads interleave: thread t takes pushes t, t + T, t + 2T, ... (T = SOAK_WRK_THREADS)
    recs[#recs + 1] = record((n * nthreads + id) * per_push + j)
  end
  local body = prefix .. string.format('"message_id":"soak-%s-%d-%d","produced_at":"%s"},'
    .. '"records":[%s]}', run, id, n, os.date("!%Y-%m-%dT%H:%M:%SZ"),
    table.concat(recs, ","))
  n = n + 1
  soak.sent()
  return wrk.format("POST", path, headers, body)
end

delay = soak.delay
response = soak.response
done = soak.done
