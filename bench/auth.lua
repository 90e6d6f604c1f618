-- wrk script for bench/run.sh: sends every request with the bench's bearer token, so the
-- lienthong record read is authenticated (and nginx gets byte-for-byte the same request).
local token = os.getenv("LT_BENCH_TOKEN")
if token == nil or token == "" then
  error("auth.lua: LT_BENCH_TOKEN is not set")
end
wrk.headers["Authorization"] = "Bearer " .. token
