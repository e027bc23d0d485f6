-- wrk script of test_overload.py: POSTs user tags with unique texts on one resource, as fast
-- as the connections allow, and writes one line per answer to $ZS_OUT/wrk-<thread>.txt:
-- "202 <job location>" or "<status> <Retry-After header> <error code>", and at the end
-- "sent <n>" per thread to stdout (requests sent; those without an answer were in flight when
-- wrk stopped).
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    print("sent " .. t:get("n"))
  end
end

function init(args)
  out = io.open(os.getenv("ZS_OUT") .. "/wrk-" .. id .. ".txt", "w")
  out:setvbuf("line")
  n = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "OAuth " .. os.getenv("ZS_SESSION")
end

function request()
  n = n + 1
  local tag = "burst-" .. id .. "-" .. n
  local body = '{"params":{"resourceType":"VmInstanceVO","resourceUuid":"' .. os.getenv("ZS_RESOURCE") ..
               '","tag":"' .. tag .. '"}}'
  return wrk.format(nil, "/zstack/v1/user-tags", nil, body)
end

function response(status, headers, body)
  if status == 202 then
    out:write("202 " .. (body:match('"location":"([^"]+)"') or "?") .. "\n")
  else
    out:write(status .. " " .. (headers["Retry-After"] or "-") .. " " ..
              (body:match('"code":"([^"]+)"') or "-") .. "\n")
  end
end
