-- wrk script of bench/soak.sh: GET requests cycling through the paths in SOAK_PATHS
-- (separated by "|"), each with the bearer token named by SOAK_TOKEN_ENV and, when SOAK_ACCEPT
-- is set, that Accept header; nothing new after SOAK_LOAD_SECONDS. Counts as soak_common.lua
-- describes.
local soak = require "soak_common"

local reqs = {}

function setup(thread)
  soak.setup(thread)
end

function init(args)
  soak.start()
  local headers = soak.auth_headers()
  local accept = os.getenv("SOAK_ACCEPT")
  if accept ~= nil and accept ~= "" then
    headers["Accept"] = accept
  end
  for _, path in ipairs(soak.split(soak.env("SOAK_PATHS"), "|")) do
    reqs[#reqs + 1] = wrk.format("GET", path, headers)
  end
end

local n = 0
function request()
  n = n + 1
  soak.sent()
  return reqs[(n + (soak_id or 0)) % #reqs + 1]
end

delay = soak.delay
response = soak.response
done = soak.done
