#!/usr/bin/env bash
# bench_query.sh — query latency over 1,000,000 tags, beside SQLite on the same rows.
#
# Run by tools/bench/run (or alone: tools/bench/bench_query.sh). Uses ZS_BIN (default
# build/bin) and ZS_BENCH_SECONDS (time bound of each measured question, default 10).
# ZS_BENCH_QUERY_TAGS changes the number of tags (default 1000000).
#
# It needs a store of 1M tags, so it runs a stack of its own (broker, core, tags, gateway) on
# a free port and a data directory of its own, with a clean environment (the caller's stack
# and its endpoints are never touched):
#   1. zs-bench-fill_tags writes the tags straight into the (not yet started) svc-tags store,
#      and the same rows into a CSV;
#   2. zs-bench-probe_query asks the engine itself (in-process, on the same store) the same
#      questions, for the engine's share of the latency;
#   3. the processes start; tools/bench/query_probe.py loads the CSV into an indexed SQLite
#      table, then measures q=resourceUuid=<one> and q=tag=<one> through the gateway (HTTP,
#      keep-alive, sequential) and the same questions in SQLite;
#   4. zs-tags runs with debug logs, so the plans and records examined of every measured query
#      are read back from its log ("query SystemTag plan=... examined=...").
# Prints "name: value unit" lines. Everything it made is removed at exit.
set -u
cd "$(dirname "$0")/../.."
BIN=$(cd "${ZS_BIN:-build/bin}" && pwd)
SECS=${ZS_BENCH_SECONDS:-10}
N=${ZS_BENCH_QUERY_TAGS:-1000000}
REQUESTS=5000
PASSWORD=bench-query-password

for b in zs-bench-fill_tags zs-bench-probe_query zs-broker zs-core zs-tags zs-gateway; do
  [ -x "$BIN/$b" ] || { echo "bench_query: $BIN/$b is not built (make all)" >&2; exit 1; }
done

DATA=$(mktemp -d "${TMPDIR:-/tmp}/zs-bench-query.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s.%N)
"$BIN/zs-bench-fill_tags" "$DATA" "$N" "$DATA/tags.csv" 2>"$DATA/fill.log" \
  || { cat "$DATA/fill.log" >&2; exit 1; }
t1=$(date +%s.%N)
echo "query_fill_tags: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
echo "query_store_size: $(du -sm "$DATA/tags" | cut -f1) MiB"

# The engine alone, in-process, before any service opens the store.
"$BIN/zs-bench-probe_query" "$DATA" "$N" "$REQUESTS" "$SECS" || exit 1

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$DATA/log"
run() {   # run <name> [VAR=value...]
  local name=$1; shift
  env -i PATH="$PATH" HOME="${HOME:-/root}" ZS_DATA_DIR="$DATA" ZS_GATEWAY_LISTEN="127.0.0.1:$PORT" \
      ZS_ADMIN_PASSWORD="$PASSWORD" ZS_CORE_READY_ROLES=broker,core,tags,gateway "$@" \
      "$BIN/zs-$name" >>"$DATA/log/$name.log" 2>&1 &
  pids+=($!)
}
run broker
run core
run tags ZS_LOG_LEVEL=debug
run gateway

ready=0
for _ in $(seq 300); do
  if curl -fs -o /dev/null "http://127.0.0.1:$PORT/zstack/v1/management-nodes/ready"; then ready=1; break; fi
  sleep 0.1
done
if [ $ready -ne 1 ]; then
  echo "bench_query: the stack did not become ready" >&2
  tail -n 5 "$DATA"/log/*.log >&2
  exit 1
fi

python3 tools/bench/query_probe.py "http://127.0.0.1:$PORT" "$PASSWORD" "$DATA/tags.csv" \
        "$DATA/reference.sqlite" "$REQUESTS" "$SECS" || { tail -n 5 "$DATA"/log/*.log >&2; exit 1; }

# What the engine did for the measured queries (warm-ups included): plans and records examined.
for field in resourceUuid tag; do
  grep -o "query SystemTag plan=index:$field examined=[0-9]*" "$DATA/log/tags.log" \
    | awk -v f="$field" -F'examined=' '{n++; if ($2 > m) m = $2} END {
        printf "query_%s_index_queries: %d queries\nquery_%s_max_examined: %d records\n", f, n, f, m }'
done
others=$(grep -c "query SystemTag plan=" "$DATA/log/tags.log" | xargs)
indexed=$(grep -c "query SystemTag plan=index:" "$DATA/log/tags.log" | xargs)
echo "query_not_indexed: $((others - indexed)) queries"
