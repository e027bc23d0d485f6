#!/usr/bin/env bash
# bench_ticket.sh — tickets through the running stack (run by tools/bench/run, which sets
# ZS_URL, ZS_SESSION (admin) and ZS_BENCH_SECONDS):
#   1. CreateTicket, async and durable: wrk POSTs for ZS_BENCH_SECONDS with 32 connections;
#      a ticket counts once svc-ticket has committed it (fsync) and answered its job. The
#      figure is tickets created / time from the first POST until the last one is stored
#      (QueryTicket count on the name index), so a backlog left after wrk stops is paid for.
#   2. GET /zstack/v1/tickets/{uuid} with wrk (gateway + svc-ticket + query engine).
# Prints "name: value unit" lines. Every load is bounded by ZS_BENCH_SECONDS.
set -eu
cd "$(dirname "$0")/../.."
: "${ZS_URL:?ZS_URL must name the gateway}" "${ZS_SESSION:?ZS_SESSION must hold an admin session}"
SECS=${ZS_BENCH_SECONDS:-10}
out=build/bench
mkdir -p "$out"
auth="Authorization: OAuth $ZS_SESSION"
. tools/bench/lib.sh
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# An async call followed to its result.
call() {   # method path body
  local loc
  loc=$(curl -sf -X "$1" "$ZS_URL/zstack/v1$2" -H "$auth" -d "$3" | json 'd["location"]')
  curl -sf "$loc?wait=30"
}

admin=$(curl -sf "$ZS_URL/zstack/v1/accounts?q=name=admin" -H "$auth" | json 'd["inventories"][0]["uuid"]')
export ZS_BENCH_COLLECTION=$(call POST /tickets/flow-collections \
  '{"params":{"name":"bench-flows","flows":[{"name":"approve","approverUuid":"'"$admin"'"}]}}' \
  | json 'd["inventory"]["uuid"]')
count() {
  curl -sf "$ZS_URL/zstack/v1/tickets?q=name=bench-ticket&count=true" -H "$auth" | json 'd["total"]'
}
before=$(count)

# 1. creation
t0=$(date +%s.%N)
wrk -t2 -c32 -d"${SECS}s" --latency -s tools/bench/ticket_create.lua "$ZS_URL/zstack/v1/tickets" \
  >"$out/wrk-ticket-create.txt"
accepted=$(accepted_of "$out/wrk-ticket-create.txt")
refused=$(awk '/Non-2xx/ {print $NF}' "$out/wrk-ticket-create.txt")
created=$(wait_backlog count "$before" "$accepted")
t1=$(date +%s.%N)
echo "ticket-create accepted (202): $(awk '/Requests\/sec/ {print $2}' "$out/wrk-ticket-create.txt") req/s (p99 $(awk '/ 99%/ {print $2}' "$out/wrk-ticket-create.txt"), refused $((${refused:-0})))"
echo "ticket-create completed durable: $(python3 -c "print(round($created / ($t1 - $t0)))") tickets/s ($created of $accepted in $(python3 -c "print(round($t1 - $t0, 1))") s)"

# 2. GET one ticket
uuid=$(call POST /tickets '{"params":{"name":"bench-get","accountSystemType":"account","flowCollectionUuid":"'"$ZS_BENCH_COLLECTION"'","requests":[{"requestName":"tag","apiName":"APICreateSystemTagMsg","apiBody":{"resourceType":"VmInstanceVO","resourceUuid":"0123456789abcdef0123456789abcdef","tag":"bench::get"}}]}}' \
  | json 'd["inventory"]["uuid"]')
wrk -t2 -c32 -d"${SECS}s" --latency -s tools/bench/auth.lua "$ZS_URL/zstack/v1/tickets/$uuid" \
  >"$out/wrk-ticket-get.txt"
echo "get-ticket: $(awk '/Requests\/sec/ {print $2}' "$out/wrk-ticket-get.txt") req/s (p99 $(awk '/ 99%/ {print $2}' "$out/wrk-ticket-get.txt"), non-2xx $(awk '/Non-2xx/ {print $NF}' "$out/wrk-ticket-get.txt"))"
