-- wrk script for bench/run.sh: GET /v1/observations with a different query every time (another
-- limit and `from` year, the same 2,040 observations in the answer), so the answer cache never
-- helps: the cost of building each answer.
local token = os.getenv("LT_BENCH_TOKEN")
if token == nil or token == "" then
  error("obs_cold.lua: LT_BENCH_TOKEN is not set")
end
wrk.headers["Authorization"] = "Bearer " .. token

local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

local n = 0
function request()
  n = n + 1
  local k = n + (id or 0) * 1000003
  local limit = 2040 + (k % 7960)
  local from = 1700 + math.floor(k / 7960) % 300
  return wrk.format("GET", "/v1/observations?indicator=IIP&limit=" .. limit .. "&from=" .. from)
end
