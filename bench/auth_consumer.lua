-- wrk script for bench/run.sh: the consumer's token (a grant holder, not the operator).
local token = os.getenv("LT_BENCH_CONSUMER_TOKEN")
if token == nil or token == "" then
  error("auth_consumer.lua: LT_BENCH_CONSUMER_TOKEN is not set")
end
wrk.headers["Authorization"] = "Bearer " .. token
