#!/usr/bin/env bash
# Runs schemathesis against the all-in-one (issue 11.3): example-based and
# stateful checks of every operation in api/openapi.yaml, all checks on, no
# 5xx, every answer conforming to the document. Bounded in examples and
# time so that CI stays quick. Exits with schemathesis's status.
#
# Settings: ST_MAX_EXAMPLES (30), ST_MAX_TIME seconds (90), ST_SEED (fixed,
# so a CI failure reproduces; set it empty for a random one).
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
venv="${XDG_CACHE_HOME:-$HOME/.cache}/inventory/schemathesis-$version"
if [ ! -x "$venv/bin/st" ]; then
	rm -rf "$venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install --quiet "schemathesis==$version"
fi

work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/inventory" ./services/inventory

# Free ports only: never the defaults another program may hold.
freeport() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
http_port=$(freeport)
nats_port=$(freeport)
mkdir -p "$work/data"
INVENTORY_HTTP_ADDR="127.0.0.1:$http_port" \
	INVENTORY_NATS_LISTEN="127.0.0.1:$nats_port" \
	INVENTORY_DATA_DIR="$work/data" \
	"$work/inventory" >"$work/inventory.log" 2>&1 &
pid=$!

base="http://127.0.0.1:$http_port"
ready=
for _ in $(seq 1 120); do
	if curl -fsS "$base/readyz" >/dev/null 2>&1; then
		ready=1
		break
	fi
	if ! kill -0 "$pid" 2>/dev/null; then
		break
	fi
	sleep 0.5
done
if [ -z "$ready" ]; then
	echo "schemathesis: the all-in-one did not become ready" >&2
	tail -50 "$work/inventory.log" >&2
	exit 1
fi

seed_args=()
seed="${ST_SEED-292708467640564719930989565571872354391}"
if [ -n "$seed" ]; then
	seed_args=(--seed "$seed")
fi

status=0
NO_COLOR=1 "$venv/bin/st" --config-file scripts/schemathesis.toml run "$base/openapi.yaml" \
	--checks all \
	--max-examples "${ST_MAX_EXAMPLES:-30}" \
	--max-time "${ST_MAX_TIME:-90}" \
	--request-timeout 10 \
	--workers 2 \
	"${seed_args[@]}" || status=$?
if [ "$status" -ne 0 ]; then
	echo "schemathesis: the program's last log lines:" >&2
	tail -50 "$work/inventory.log" >&2
fi
exit "$status"
