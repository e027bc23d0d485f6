#!/usr/bin/env bash
# bench_curve.sh — what CurveZMQ costs: GET /zstack/v1/system-tags/{uuid} through a stack whose
# bus is tcp on loopback (broker, core, tags, gateway; own ports and data directory), once with
# CURVE (keys from zs-keys) and once with bus.plain-tcp (CURVE off), one after the other in the
# same run, wrk -t2 -c32 for ZS_BENCH_SECONDS each. Run by tools/bench/run (make bench).
# Prints "name: value unit" lines.
set -eu
cd "$(dirname "$0")/../.."
BIN=$(cd "${ZS_BIN:-build/bin}" && pwd)
SECS=${ZS_BENCH_SECONDS:-10}
out=build/bench
mkdir -p "$out"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
pids=()
data=""
stop_stack() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  [ -n "$data" ] && rm -rf "$data"
  data=""
}
trap stop_stack EXIT

# run_once LABEL [ENV...]: starts the tcp stack with the extra settings, measures, stops it.
run_once() {
  local label=$1; shift
  data=$(mktemp -d /tmp/zs-bench-curve-XXXXXX)
  local port; port=$(free_port)
  local url="http://127.0.0.1:$port"
  local -a env=(ZS_DATA_DIR="$data" ZS_GATEWAY_LISTEN="127.0.0.1:$port" ZS_LOG_LEVEL=warn
                ZS_ADMIN_PASSWORD=bench-password ZS_CORE_READY_ROLES=broker,core,tags,gateway
                ZS_BUS_KEYS="$data/keys" ZS_GATEWAY_MAX_CONNECTIONS_PER_CLIENT=64 "$@")
  for s in broker core tags events-in events-out; do
    env+=("ZS_BUS_$(echo "$s" | tr 'a-z-' 'A-Z_')=tcp://127.0.0.1:$(free_port)")
  done
  "$BIN/zs-keys" generate "$data/keys" >/dev/null
  mkdir -p "$data/log"
  for p in broker core tags gateway; do
    env -i PATH="$PATH" HOME="${HOME:-/root}" "${env[@]}" "$BIN/zs-$p" >>"$data/log/$p.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 1 300); do curl -sf "$url/zstack/v1/management-nodes/ready" >/dev/null 2>&1 && break; sleep 0.05; done
  local pw session loc tag
  pw=$(printf bench-password | sha512sum | cut -d' ' -f1)
  session=$(curl -sf -X PUT "$url/zstack/v1/accounts/login" \
    -d '{"logInByAccount":{"accountName":"admin","password":"'"$pw"'"}}' | json 'd["inventory"]["uuid"]')
  loc=$(curl -sf -X POST "$url/zstack/v1/system-tags" -H "Authorization: OAuth $session" \
    -d '{"params":{"resourceType":"VmInstanceVO","resourceUuid":"0123456789abcdef0123456789abcdef","tag":"bench::curve"}}' \
    | json 'd["location"]')
  tag=$(curl -sf "$loc?wait=10" | json 'd["inventory"]["uuid"]')
  ZS_SESSION=$session wrk -t2 -c32 -d"${SECS}s" --latency -s tools/bench/auth.lua \
    "$url/zstack/v1/system-tags/$tag" >"$out/wrk-curve-$label.txt"
  echo "get-system-tag tcp bus $label: $(awk '/Requests\/sec/ {print $2}' "$out/wrk-curve-$label.txt") req/s (p99 $(awk '/ 99%/ {print $2}' "$out/wrk-curve-$label.txt"), non-2xx $(awk '/Non-2xx/ {print $NF}' "$out/wrk-curve-$label.txt"))"
  stop_stack
}
run_once curve
run_once plain ZS_BUS_PLAIN_TCP=yes
c=$(awk '/Requests\/sec/ {print $2}' "$out/wrk-curve-curve.txt")
p=$(awk '/Requests\/sec/ {print $2}' "$out/wrk-curve-plain.txt")
echo "get-system-tag tcp bus, CURVE vs plain: $(python3 -c "print(round($c / $p, 3))")"
