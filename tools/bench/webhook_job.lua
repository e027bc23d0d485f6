-- wrk script for bench_webhook.sh: CreateSystemTag (async) with a webhook to ZS_HOOK; every
-- request tags a different resource so no two jobs collide.
wrk.method = "POST"
wrk.headers["Authorization"] = "OAuth " .. os.getenv("ZS_SESSION")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Web-Hook"] = os.getenv("ZS_HOOK")
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"params":{"resourceType":"VmInstanceVO","resourceUuid":"%08x%024d",' ..
    '"tag":"bench::hook::%d"}}', math.random(0, 2147483647), n, n)
  return wrk.format(nil, nil, nil, body)
end
