-- wrk: PUT the image named by $BENCH_IMAGE to a random product:
-- $BENCH_STEP * (1..$BENCH_MAX) (defaults 1 and 1000), as $BENCH_TYPE
-- (default image/png).
local f = assert(io.open(os.getenv("BENCH_IMAGE"), "rb"))
local step = tonumber(os.getenv("BENCH_STEP") or "1")
local max = tonumber(os.getenv("BENCH_MAX") or "1000")
wrk.method = "PUT"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = os.getenv("BENCH_TYPE") or "image/png"
math.randomseed(42)

request = function()
  return wrk.format(nil, "/api/v1/Product/" .. step * math.random(1, max) .. "/Image")
end
