#!/usr/bin/env bash
# Cost of INVENTORY_SYNC=always (fsync before every acknowledgement) on the
# all-in-one: for each round, starts it once with the default sync (every
# 2 minutes) and once with always, alternating which goes first, each on
# free ports and a fresh data dir; runs the load tool's baseline (raw
# JetStream publish on the same server) and an ingest over NATS (applied
# end to end) against it; prints one line per run and the ratios
# other/default of the medians. The other setting is always by default,
# or any INVENTORY_SYNC value such as 1s.
#   usage: scripts/sync-cost.sh [rounds=3] [events=30000] [other=always]
set -euo pipefail
ROUNDS=${1:-3}
EVENTS=${2:-30000}
OTHER=${3:-always}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/sync-cost.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

(cd "$ROOT" && go build -o "$WORK/" ./services/inventory ./services/load)
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
metric() { python3 -c 'import sys,json; r=json.load(sys.stdin); print(next(m["value"] for s in r["sections"] for m in s["metrics"] if m["name"]==sys.argv[1]))' "$1"; }

run() { # $1 = sync setting
  local http nats data
  http=$(freeport); nats=$(freeport); data="$WORK/data-$1-$RANDOM"
  INVENTORY_SYNC=$1 INVENTORY_DATA_DIR=$data INVENTORY_HTTP_ADDR=127.0.0.1:$http \
    INVENTORY_NATS_LISTEN=127.0.0.1:$nats INVENTORY_LOG_LEVEL=warn "$WORK/inventory" >"$WORK/inventory.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do curl -fs "127.0.0.1:$http/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  local flags=(--quiet --json --http "http://127.0.0.1:$http" --nats "nats://127.0.0.1:$nats" --events "$EVENTS")
  local base ingest
  base=$("$WORK/load" baseline "${flags[@]}")
  ingest=$("$WORK/load" ingest --via nats --timeout 120s "${flags[@]}")
  printf '%s\t%.0f\t%.3f\t%.0f\t%.0f\n' "$1" "$(metric 'publish rate' <<<"$base")" "$(metric 'publish round trip p50' <<<"$base")" \
    "$(metric 'accepted' <<<"$ingest")" "$(metric 'applied end to end' <<<"$ingest")" | tee -a "$WORK/results"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  rm -rf "$data"
}

printf 'sync\tbaseline/s\tsync-publish-p50-ms\taccepted/s\tapplied/s\n'
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then run 2m; run "$OTHER"; else run "$OTHER"; run 2m; fi
done
python3 - "$WORK/results" "$OTHER" <<'PY'
import sys, statistics as st
rows = [l.split("\t") for l in open(sys.argv[1]).read().split("\n") if l]
other = sys.argv[2]
med = lambda v, i: st.median(float(r[i]) for r in rows if r[0] == v)
for i, name in [(1, "baseline publish rate"), (2, "sync publish round trip p50"), (3, "ingest accepted"), (4, "ingest applied end to end")]:
    print(f"{name}: median default {med('2m', i):.3f}, {other} {med(other, i):.3f}, {other}/default {med(other, i) / med('2m', i):.2f}")
PY
