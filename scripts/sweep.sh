#!/usr/bin/env bash
# The cost against the number of keys (issue 15.4): builds the all-in-one
# and the load tool (from REV, default the work tree; REV=main builds
# that commit in a temporary checkout) and, for each sweep step, starts a
# fresh all-in-one (throwaway data dir, free ports) and runs
# `load sweep --sweep <step> --pid <its pid>`: a baseline publish, then
# the step's ingest over NATS, with VmRSS/VmHWM before and after. Prints
# one line per step; the JSON reports and logs stay in OUT (default a
# temporary directory, printed). Extra arguments go to `load sweep`
# (e.g. --events 200000 --timeout 10m). The all-in-one's environment
# passes through (e.g. INVENTORY_WRITER_CACHE_KEYS=100000). With
# PROFILE_DIR=<dir>, a 30-second CPU profile of the all-in-one is taken
# PROFILE_AFTER seconds (default 60) into each step, into
# <dir>/cpu-<n>.pb.gz (go tool pprof -top <dir>/cpu-1.pb.gz), and a heap
# profile at the end of each step, <dir>/heap-<n>.pb.gz, with the
# server's /metrics (<dir>/metrics-<n>.txt). cpu_us/ev is the all-in-one's user+system CPU
# over the step per event; lost counts "lease lost" in its log. With
# BASELINE=step, each step's baseline publishes over the step's own
# number of keys, uniformly (--keys K --skew 0), instead of --keys.
#   usage: scripts/sweep.sh [steps=1k:uniform,100k:uniform,1m:uniform] [load flags...]
set -euo pipefail
STEPS=${1:-1k:uniform,100k:uniform,1m:uniform}
shift || true
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/sweep.XXXXXX)
OUT=${OUT:-$WORK/out}
mkdir -p "$OUT"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$WORK/bin" "$WORK/src" "$WORK"/data-*; rmdir "$WORK" 2>/dev/null || true; }
trap cleanup EXIT

SRC=$ROOT
if [ -n "${REV:-}" ]; then
  SRC=$WORK/src
  mkdir -p "$SRC"
  git -C "$ROOT" archive "$REV" | tar -x -C "$SRC"
fi
mkdir -p "$WORK/bin"
(cd "$SRC" && go build -o "$WORK/bin/" ./services/inventory)
# The load tool always from the work tree: the same measurement for every REV.
(cd "$ROOT" && go build -o "$WORK/bin/" ./services/load)
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "rev=${REV:-worktree@$(git -C "$ROOT" rev-parse --short HEAD)} out=$OUT"
printf '%-16s %12s %12s %8s %10s %10s %10s %10s %6s %6s %s\n' step baseline/s applied/s xbase cpu_us/ev rss0_MB rss_MB hwm_MB stops lost loadavg
i=0
IFS=',' read -ra LIST <<<"$STEPS"
for STEP in "${LIST[@]}"; do
  i=$((i + 1))
  HTTP=127.0.0.1:$(freeport)
  NATS=127.0.0.1:$(freeport)
  DATA="$WORK/data-$i"
  PPROF=""
  [ -n "${PROFILE_DIR:-}" ] && PPROF=127.0.0.1:$(freeport)
  INVENTORY_PPROF_ADDR=$PPROF INVENTORY_HTTP_ADDR=$HTTP INVENTORY_NATS_LISTEN=$NATS INVENTORY_DATA_DIR=$DATA \
    INVENTORY_LOG_LEVEL=${INVENTORY_LOG_LEVEL:-warn} "$WORK/bin/inventory" >"$OUT/inventory-$i.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 60); do curl -fs "http://$HTTP/readyz" >/dev/null 2>&1 && break; sleep 1; done
  if [ -n "$PPROF" ]; then
    mkdir -p "$PROFILE_DIR"
    (sleep "${PROFILE_AFTER:-60}" && curl -fs "http://$PPROF/debug/pprof/profile?seconds=30" -o "$PROFILE_DIR/cpu-$i.pb.gz") &
  fi
  BASE=()
  if [ "${BASELINE:-}" = step ]; then
    k=${STEP%%:*}
    case $k in *k|*K) k=$((${k%?} * 1000)) ;; *m|*M) k=$((${k%?} * 1000000)) ;; esac
    BASE=(--keys "$k" --skew 0)
  fi
  "$WORK/bin/load" sweep --quiet --json --http "http://$HTTP" --nats "nats://$NATS" --pid "$pid" \
    --sweep "$STEP" "${BASE[@]}" "$@" >"$OUT/sweep-$i.json" || echo "step $STEP failed (see $OUT/sweep-$i.json)" >&2
  if [ -n "$PPROF" ]; then
    curl -fs "http://$PPROF/debug/pprof/heap" -o "$PROFILE_DIR/heap-$i.pb.gz" || true
    curl -fs "http://$HTTP/metrics" -o "$PROFILE_DIR/metrics-$i.txt" || true
  fi
  load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')
  stops=$(grep -c "partition stopped" "$OUT/inventory-$i.log" || true)
  lost=$(grep -c "lease lost" "$OUT/inventory-$i.log" || true)
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
  rm -rf "$DATA"
  python3 - "$OUT/sweep-$i.json" "$STEP" "$stops" "$lost" "$load" <<'PY'
import json, sys
path, step, stops, lost, load = sys.argv[1:]
try:
    r = json.load(open(path))
except Exception:
    print(f"{step:<16} (no report)"); sys.exit()
m = {}
for s in r["sections"]:
    for x in s["metrics"]:
        m[(s["mode"], x["name"])] = x
def v(mode, name, div=1):
    x = m.get((mode, name))
    return "-" if x is None else f"{x['value']/div:.0f}"
a = m.get(("sweep", "applied end to end"))
ratio = "-" if not a or a.get("vsBaseline") is None else f"{a['vsBaseline']:.3f}"
mb = 1 << 20
cpu = m.get(("sweep", "server CPU per event (user+sys)"))
cpu = "-" if cpu is None else f"{cpu['value']*1000:.0f}"
print(f"{step:<16} {v('baseline','publish rate'):>12} {v('sweep','applied end to end'):>12} {ratio:>8} {cpu:>10} "
      f"{v('sweep','RSS before',mb):>10} {v('sweep','RSS after',mb):>10} {v('sweep','RSS peak (VmHWM)',mb):>10} {stops:>6} {lost:>6} {load}")
for s in r["sections"]:
    if s.get("error"):
        print(f"  error in {s['mode']}: {s['error']}")
PY
done
