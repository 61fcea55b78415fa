#!/usr/bin/env bash
# Throughput of the pipeline on a local three-node NATS cluster (R3) with N
# calculators: builds nats-server (from this module's pinned version), the
# calculator and the load tool, starts them on 127.0.0.1, runs one bounded
# ingest over NATS and a baseline, and stops everything.
#   usage: scripts/cluster-load.sh [calculators=1] [events=30000]
set -euo pipefail
N=${1:-1}
EVENTS=${2:-30000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/cluster-load.XXXXXX)
URL=nats://127.0.0.1:24221,nats://127.0.0.1:24222,nats://127.0.0.1:24223
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

(cd "$ROOT" && go build -o "$WORK/" github.com/nats-io/nats-server/v2 ./services/calculator ./services/load)

for i in 1 2 3; do
  routes=""
  for j in 1 2 3; do [ "$j" != "$i" ] && routes="$routes,nats://127.0.0.1:2620$j"; done
  "$WORK/nats-server" -a 127.0.0.1 -p "2422$i" -js -sd "$WORK/d$i" -n "n$i" --cluster_name load \
    --cluster "nats://127.0.0.1:2620$i" --routes "${routes#,}" >"$WORK/n$i.log" 2>&1 &
  pids+=($!)
done
for k in $(seq 1 "$N"); do
  NATS_URL=$URL INVENTORY_REPLICAS=3 INVENTORY_HTTP_ADDR="127.0.0.1:2909$k" INVENTORY_LOG_LEVEL=warn \
    "$WORK/calculator" >"$WORK/c$k.log" 2>&1 &
  pids+=($!)
done

# Wait (at most 120 s) until the partitions are shared by all N instances.
owned() { curl -fs "127.0.0.1:2909$1/calculator/status" | python3 -c 'import sys,json; print(len(json.load(sys.stdin)["owned"]))' 2>/dev/null || echo 0; }
for t in $(seq 1 120); do
  total=0 least=8
  for k in $(seq 1 "$N"); do o=$(owned "$k"); total=$((total + o)); [ "$o" -lt "$least" ] && least=$o; done
  [ "$total" = 8 ] && [ "$least" -ge $((8 / N)) ] && break
  sleep 1
done
echo "calculators=$N partitions owned=$total (least per instance $least) after ${t}s"

"$WORK/load" ingest --quiet --via nats --nats nats://127.0.0.1:24221 --http http://127.0.0.1:29091 \
  --events "$EVENTS" --timeout 60s | grep -E "accepted|applied|ERROR"
"$WORK/load" baseline --quiet --nats nats://127.0.0.1:24221 --http http://127.0.0.1:29091 --events "$EVENTS" | grep "publish rate"
