#!/usr/bin/env bash
# govulncheck (golang.org/x/vuln, a tool dependency in go.mod) over every
# package: fails when our code reaches a known vulnerability, unless
# .ci/govulncheck-accepted names it with a reason. Run by .ci/run.
#
# The database is vuln.go.dev; where it cannot be reached, the snapshot
# in the module golang.org/x/vulndb fetched through the Go module proxy
# (its data/osv, at the newest commit the proxy knows), and the script
# says so. VULNDB=file:///dir or https://... picks one.
set -euo pipefail
cd "$(dirname "$0")/.."
# The toolchain line of go.mod (a Go that fixes the standard library's
# known vulnerabilities) applies even where GOTOOLCHAIN=local is the
# default: the standard library is checked as the programs are built.
export GOTOOLCHAIN=auto

db="${VULNDB:-}"
if [[ -z "$db" ]]; then
  if curl -sfm 10 -o /dev/null https://vuln.go.dev/index/db.json.gz; then
    db=https://vuln.go.dev
  else
    dir=$(go mod download -json golang.org/x/vulndb@latest | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    db="file://$dir/data/osv"
    echo "govulncheck: vuln.go.dev unreachable; using the snapshot $(basename "$dir")" >&2
  fi
fi
echo "govulncheck: $(go version), database $db" >&2

out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
go tool govulncheck -db "$db" -format json ./... >"$out" || status=$?
# With -format json, a finding does not change the exit status: any
# other failure does.
if [[ $status -ne 0 ]]; then
  echo "govulncheck failed (status $status)" >&2
  exit $status
fi

python3 - "$out" .ci/govulncheck-accepted <<'PY'
import json, sys
findings, accepted = {}, {}
for line in open(sys.argv[2]):
    line = line.strip()
    if line and not line.startswith("#"):
        vid, _, why = line.partition(" ")
        accepted[vid] = why
dec, text, pos = json.JSONDecoder(), open(sys.argv[1]).read(), 0
osv = {}
while True:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    msg, pos = dec.raw_decode(text, pos)
    if "osv" in msg:
        osv[msg["osv"]["id"]] = msg["osv"].get("summary", "")
    f = msg.get("finding")
    # Reachable: the trace's first frame, the vulnerable code, names a
    # function (symbol level); a package only imported or a module only
    # required has none.
    if f and f.get("trace") and f["trace"][0].get("function"):
        t = f["trace"][0]
        findings.setdefault(f["osv"], (f.get("fixed_version", ""), t.get("module", ""), t.get("version", "")))
bad = False
for vid, (fixed, mod, ver) in sorted(findings.items()):
    state = "accepted" if vid in accepted else "FAIL"
    print(f"govulncheck: {state} {vid} in {mod}@{ver} (fixed in: {fixed or 'none'}): {osv.get(vid, '')}")
    bad |= vid not in accepted
for vid in sorted(set(accepted) - set(findings)):
    print(f"govulncheck: FAIL {vid} is accepted in .ci/govulncheck-accepted but no longer found: remove it")
    bad = True
if bad:
    sys.exit(1)
print(f"govulncheck: no reachable vulnerability beyond the {len(accepted)} accepted")
PY
