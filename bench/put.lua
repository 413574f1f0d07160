-- wrk: PUT the image named by $BENCH_IMAGE to a random product (1..1000).
local f = assert(io.open(os.getenv("BENCH_IMAGE"), "rb"))
wrk.method = "PUT"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "image/png"
math.randomseed(42)

request = function()
  return wrk.format(nil, "/api/v1/Product/" .. math.random(1, 1000) .. "/Image")
end
