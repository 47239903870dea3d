#!/usr/bin/env bash
# Run HERE after the device call: files the benchmark JSON that came back from
# tools/gpu/run_checks.sh under benchmarks/results/<device_label>/ (e.g. cuda-nvidia-h100-80gb-hbm3/)
# as <stamp>-<kernel>.json, prints `affrepro bench compare` on them, and the git commands to
# commit them. Only GPU results are filed (a dry run's CPU JSON is refused).
# Usage: bash tools/gpu/collect.sh FILES_AT      (the folder the device reply names)
set -euo pipefail
src=${1:?usage: bash tools/gpu/collect.sh FILES_AT (the folder holding bench_*.json)}
src=$(cd "$src" && pwd)
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
filed=()
for f in "$src"/bench_*.json "$src"/*/bench_*.json; do
  [ -f "$f" ] || continue
  kernel=$(basename "$f" .json); kernel=${kernel#bench_}
  read -r label stamp n < <("$PY" - "$f" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
label = d.get("machine_info", {}).get("affrepro", {}).get("device_label", "unknown")
stamp = (d.get("datetime") or "unknown")[:19].replace("-", "").replace(":", "")
print(label, stamp, len(d.get("benchmarks", [])))
PYEOF
)
  if [[ "$label" != cuda-* ]]; then echo "collect: $f is labelled $label, not a GPU result: skipped"; continue; fi
  if [ "$n" = 0 ]; then echo "collect: $f holds no benchmarks: skipped"; continue; fi
  dest=benchmarks/results/$label/$stamp-$kernel.json
  mkdir -p "$(dirname "$dest")"
  cp "$f" "$dest"
  echo "collect: $f -> $dest ($n benchmarks)"
  filed+=("$dest")
done
[ ${#filed[@]} -gt 0 ] || { echo "collect: nothing to file" >&2; exit 1; }
"$PY" -m affrepro.cli bench compare "${filed[@]}"
echo
echo "commit them with:"
echo "  git add ${filed[*]} && git commit -m 'GPU benchmark results (<gpu>, <what changed>)' -- ${filed[*]}"
