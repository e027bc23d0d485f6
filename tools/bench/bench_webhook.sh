#!/usr/bin/env bash
# bench_webhook.sh — async jobs with a webhook each, delivered to a local receiver (the bare
# civetweb server of tools/bench/run, ZS_BENCH_BARE_URL, which answers 200 to everything).
# wrk POSTs CreateSystemTag with X-Web-Hook for ZS_BENCH_SECONDS; the figure is deliveries
# recorded Delivered (fsync'd by the broker) / time from the first POST to the last delivery,
# so it is bounded by job completion as well as by delivery; then the latency of each delivery
# from its job's completion being written to its 2xx recorded by the broker, and to its
# arrival at the receiver (zs-bench-webhook_latency, reading the broker's store in ZS_DATA_DIR
# and the receiver's log of arrivals, ZS_BENCH_RECEIPTS). Prints "name: value unit" lines.
set -eu
cd "$(dirname "$0")/../.."
: "${ZS_URL:?}" "${ZS_SESSION:?}" "${ZS_BENCH_BARE_URL:?run through tools/bench/run}"
SECS=${ZS_BENCH_SECONDS:-10}
out=build/bench
auth="Authorization: OAuth $ZS_SESSION"
. tools/bench/lib.sh
delivered() {
  curl -sf "$ZS_URL/zstack/v1/webhook-deliveries?q=status=Delivered&count=true" -H "$auth" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'
}
before=$(delivered)
t0=$(date +%s.%N)
since_ms=$(date +%s%3N)
ZS_HOOK="$ZS_BENCH_BARE_URL/hook" wrk -t2 -c32 -d"${SECS}s" -s tools/bench/webhook_job.lua \
  "$ZS_URL/zstack/v1/system-tags" >"$out/wrk-webhook.txt"
accepted=$(accepted_of "$out/wrk-webhook.txt")
n=$(wait_backlog delivered "$before" "$accepted")
t1=$(date +%s.%N)
echo "async-create-with-webhook accepted (202): $(awk '/Requests\/sec/ {print $2}' "$out/wrk-webhook.txt") req/s"
echo "webhook deliveries (job completed + delivered + recorded): $(python3 -c "print(round($n / ($t1 - $t0)))") /s ($n of $accepted in $(python3 -c "print(round($t1 - $t0, 1))") s; target >= 5000/s)"
"$ZS_BIN/zs-bench-webhook_latency" "${ZS_DATA_DIR:?}/broker" "$since_ms" "${ZS_BENCH_RECEIPTS:-/dev/null}"
