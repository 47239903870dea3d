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
RESULTS=${AFFREPRO_RESULTS_DIR:-benchmarks/results}  # (another folder: for tests)
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
file_one() {  # file_one SRC DEST WHAT: copy SRC to DEST (never over a file), 0 if copied
  if [ -e "$2" ]; then echo "collect: $2 exists: not overwritten ($1)"; return 1; fi
  mkdir -p "$(dirname "$2")" && cp "$1" "$2" && chmod 644 "$2" || return 1
  echo "collect: $1 -> $2 ($3)"
}
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
  dest=$RESULTS/$label/$stamp-$kernel.json
  file_one "$f" "$dest" "$n benchmarks" && filed+=("$dest")
done
# the sweep beside them: benchmarks/results/<label>/sweeps/<UTC stamp>-spectral-sweep.json
sweeps=()
for f in "$src"/sweep_spectral.json "$src"/*/sweep_spectral.json; do
  [ -f "$f" ] || continue
  read -r label n < <("$PY" - "$f" <<'PYEOF'
import json, sys
from affrepro.plugins.bench.runner import slug  # the label `bench run` gives the same GPU
d = json.load(open(sys.argv[1]))
print("cuda-" + slug(str(d.get("gpu") or "unknown")), len(d.get("rows", [])))
PYEOF
)
  if [ "$label" = cuda-cpu-rehearsal ]; then echo "collect: $f is a CPU rehearsal: skipped"; continue; fi
  dest=$RESULTS/$label/sweeps/$(date -u -r "$f" +%Y%m%dT%H%M)-spectral-sweep.json
  file_one "$f" "$dest" "$n rows" && sweeps+=("$dest")
done
[ ${#filed[@]} -gt 0 ] || [ ${#sweeps[@]} -gt 0 ] || { echo "collect: nothing to file" >&2; exit 1; }
[ ${#filed[@]} -gt 0 ] || { echo "collect: only the sweep came back; commit it with: git add ${sweeps[*]}"; exit 0; }
filed_all=("${filed[@]}" "${sweeps[@]}")
"$PY" -m affrepro.cli bench compare "${filed[@]}"
echo
echo "commit them with:"
echo "  git add ${filed_all[*]} && git commit -m 'GPU benchmark results (<gpu>, <what changed>)' -- ${filed_all[*]}"
