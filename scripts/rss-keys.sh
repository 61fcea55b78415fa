#!/usr/bin/env bash
# Memory of the all-in-one after writing N distinct keys, once per writer
# cache setting: builds the all-in-one and the load tool, and for each
# setting starts a fresh all-in-one (throwaway data dir, free ports),
# writes every key once over NATS (load ingest --sequential), and reads
# VmRSS / VmHWM from /proc and the Go heap and cached keys from /metrics.
# With HEAP_PROFILES=<dir>, also saves a heap profile per setting there
# (go tool pprof -sample_index=inuse_space <dir>/heap-<setting>.pb.gz).
# "stops" counts partitions that stopped on an error (each restart starts
# with an empty cache); with LOGS=<dir> the all-in-one's logs are kept.
#   usage: scripts/rss-keys.sh [keys=1000000] [cache-keys ...=250000 100000000]
set -euo pipefail
KEYS=${1:-1000000}
shift || true
SETTINGS=("$@")
[ ${#SETTINGS[@]} -gt 0 ] || SETTINGS=(250000 100000000)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/rss-keys.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

(cd "$ROOT" && go build -o "$WORK/" ./services/inventory ./services/load)
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
metric() { curl -fs "http://$HTTP/metrics" | awk -v m="$1" '$1 ~ "^"m"({|$)" {s += $2} END {printf "%.0f", s}'; }
status() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$pid/status"; }

printf '%-12s %14s %10s %10s %12s %12s %14s %7s %s\n' cache-keys start_VmRSS_MB VmRSS_MB VmHWM_MB heap_MB cached_keys applied_ev/s stops seconds
for CACHE in "${SETTINGS[@]}"; do
  HTTP=127.0.0.1:$(freeport)
  NATS=127.0.0.1:$(freeport)
  DATA="$WORK/data-$CACHE"
  PPROF=""
  [ -n "${HEAP_PROFILES:-}" ] && PPROF=127.0.0.1:$(freeport)
  INVENTORY_PPROF_ADDR=$PPROF INVENTORY_HTTP_ADDR=$HTTP INVENTORY_NATS_LISTEN=$NATS INVENTORY_DATA_DIR=$DATA \
    INVENTORY_WRITER_CACHE_KEYS=$CACHE INVENTORY_LOG_LEVEL=warn "$WORK/inventory" >"$WORK/inventory-$CACHE.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 60); do curl -fs "http://$HTTP/readyz" >/dev/null 2>&1 && break; sleep 1; done
  rss0=$(( $(status VmRSS) / 1024 ))
  start=$(date +%s)
  "$WORK/load" ingest --quiet --json --via nats --http "http://$HTTP" --nats "nats://$NATS" \
    --keys "$KEYS" --events "$KEYS" --sequential --timeout 20m >"$WORK/load-$CACHE.json"
  secs=$(( $(date +%s) - start ))
  applied=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
for s in r["sections"]:
  for m in s["metrics"]:
    if m["name"] == "applied end to end": print(round(m["value"]))' "$WORK/load-$CACHE.json" 2>/dev/null || echo "?")
  stops=$(grep -c "partition stopped" "$WORK/inventory-$CACHE.log" || true)
  printf '%-12s %14d %10d %10d %12d %12d %14s %7s %s\n' "$CACHE" "$rss0" $(( $(status VmRSS) / 1024 )) $(( $(status VmHWM) / 1024 )) \
    $(( $(metric go_memstats_heap_inuse_bytes) / 1048576 )) "$(metric inventory_kv_writer_cache_keys)" "$applied" "$stops" "$secs"
  if [ -n "$PPROF" ]; then
    mkdir -p "$HEAP_PROFILES"
    curl -fs "http://$PPROF/debug/pprof/heap" -o "$HEAP_PROFILES/heap-$CACHE.pb.gz"
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  if [ -n "${LOGS:-}" ]; then mkdir -p "$LOGS"; cp "$WORK/inventory-$CACHE.log" "$LOGS/"; fi
  rm -rf "$DATA"
done
