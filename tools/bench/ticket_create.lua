-- wrk script for bench_ticket.sh: CreateTicket (async) with the session of ZS_SESSION,
-- through the flow collection ZS_BENCH_COLLECTION; one request that would tag a VM.
wrk.method = "POST"
wrk.headers["Authorization"] = "OAuth " .. os.getenv("ZS_SESSION")
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"params":{"name":"bench-ticket","accountSystemType":"account","flowCollectionUuid":"' ..
  os.getenv("ZS_BENCH_COLLECTION") .. '","requests":[{"requestName":"tag","apiName":' ..
  '"org.zstack.header.tag.APICreateSystemTagMsg","executeTimes":1,"apiBody":{"resourceType":' ..
  '"VmInstanceVO","resourceUuid":"0123456789abcdef0123456789abcdef","tag":"bench::ticket"}}]}}'
