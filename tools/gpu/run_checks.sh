#!/usr/bin/env bash
# Every GPU check of affrepro in one device call (issues 3, 4, 7): run THERE, in the repo
# root, as the call's one command, with carry [".whl"] filled by tools/gpu/prepare.sh here:
#
#   bash tools/gpu/run_checks.sh [STEP ...]     steps, in order (default: all of them, in
#                                               the order sweep bench_spectral tests
#                                               bench_moments araus)
#     tests           Triton compiled on CUDA vs the float64 reference: spectral, moments,
#                     gaussian_posterior, the LAF/LCF mean square and ISO 532-1 filter bank (the TRITON_INTERPRET tests are CPU checks CI runs)
#     bench_spectral  affrepro bench run --device cuda --kernels spectral (workload (c):
#                     256 x 10 s clips; ours vs torch eager vs torch.compile; <= 1e-3 dB)
#     bench_moments   affrepro bench run --device cuda --kernels moments (100 M pairs; ours
#                     vs torch eager and torchmetrics; <= 1e-6 vs float64)
#     sweep           tools/gpu/sweep_spectral.py: the Triton log-mel kernel's launch settings
#                     on workload (c), with torch.stft alone and the eager chain beside them;
#                     the fastest variant within 1e-3 dB is exported to the later steps
#                     (name the steps in the order wanted, e.g. sweep bench_spectral tests);
#                     its rows and pick are rewritten after every variant, so a sweep cut
#                     short still returns what it measured
#     araus           affrepro reproduce araus-2022 --dry-run --device cuda --no-track (the
#                     CNN stage on CUDA on the synthetic corpus)
#     bench_psycho    affrepro bench run --device cuda --kernels psychoacoustics -k issue24
#                     (issue 24: the Triton LAF/LCF and ISO 532-1 filter-bank recursions on
#                     64 x 30 s binaural stimuli at once, checked against Numba first;
#                     per-stimulus ms; AFFREPRO_PSYCHO_GPU_BATCH changes the batch), and
#                     each _r feature as `features extract --backend triton` runs it (8 x 30
#                     s binaural stimuli a call, AFFREPRO_PSYCHO_GPU_FEATURE_BATCH): per-
#                     stimulus ms per feature and the projected full-ARAUS minutes
#     fusion          the Triton fusion kernels (TFN, LMF, cross-modal attention) compiled on
#                     CUDA vs the float64 reference (float32/float64/bfloat16, MulT shapes),
#                     then affrepro bench run --device cuda --kernels fusion (TFN vs eager and
#                     torch.compile, LMF vs eager, attention vs SDPA); alone:
#                     bash tools/gpu/run_checks.sh fusion
#
# Writes to $OUT (at most 8 files): summary.txt, checks.log (everything), bench_spectral.json,
# bench_moments.json, bench_fusion.json (pytest-benchmark JSON with the GPU's identity),
# sweep_spectral.json, araus_report.json, bench_psychoacoustics.json.
# Each step has its own timeout (tests: AFFREPRO_GPU_TESTS_S, default 150 s), all of them
# together at most AFFREPRO_GPU_BUDGET_S (default 480 s); a failing step does not stop the others.
# Exit status: 0 every step passed, 1 a step failed, 2 no CUDA GPU here, 3 setup failed.
#
# AFFREPRO_GPU_DRY=1: a rehearsal on a CPU machine (the dev venv's python, TRITON_INTERPRET=1,
# the same steps on tiny CPU subsets, mlflow/librosa/mosqito made unimportable) to prove the
# plumbing; writes to $OUT or a temp folder.
set -u -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
DRY=${AFFREPRO_GPU_DRY:-0}
BUDGET=${AFFREPRO_GPU_BUDGET_S:-480}
export PYTHONUNBUFFERED=1
ALL_STEPS=(sweep bench_spectral tests bench_moments araus bench_psycho fusion)  # the default order: measure first
TESTS_S=${AFFREPRO_GPU_TESTS_S:-150}
for pair in "AFFREPRO_GPU_BUDGET_S=$BUDGET" "AFFREPRO_GPU_TESTS_S=$TESTS_S"; do
  if ! [[ ${pair#*=} =~ ^[1-9][0-9]*$ ]]; then
    echo "run_checks: ${pair%%=*} must be a whole number of seconds >= 1, got '${pair#*=}'" >&2
    exit 3
  fi
done
T0=$(date +%s)
DEADLINE=$((T0 + BUDGET))
STEPS=("$@")
[ ${#STEPS[@]} -gt 0 ] || STEPS=("${ALL_STEPS[@]}")
for s in "${STEPS[@]}"; do
  case " ${ALL_STEPS[*]} " in *" $s "*) ;; *) echo "run_checks: unknown step '$s' (steps: ${ALL_STEPS[*]})" >&2; exit 3 ;; esac
done

if [ "$DRY" = 1 ]; then
  PY=${AFFREPRO_GPU_PYTHON:-$ROOT/.venv/bin/python}
  BENCH_DEVICE=cpu
  SPECTRAL_K=(-k numba_jit)          # the one CPU spectral benchmark without 10 min of audio
  MOMENTS_K=(-k numba_vs_numpy)
  FUSION_K=(-k "cpu_lmf and 32")   # the quickest CPU fusion benchmark
  export TRITON_INTERPRET=1
else
  unset TRITON_INTERPRET
  PY=${AFFREPRO_GPU_PYTHON:-python3}
  BENCH_DEVICE=cuda
  SPECTRAL_K=()
  MOMENTS_K=()
  FUSION_K=()
fi

# ---------------------------------------------------------------- a CUDA GPU, or stop at once
if [ "$DRY" != 1 ]; then
  why=""
  if ! command -v nvidia-smi >/dev/null 2>&1; then
    why="no nvidia-smi on PATH"
  elif ! nvidia-smi -L >/dev/null 2>&1; then
    why="nvidia-smi finds no GPU"
  elif ! "$PY" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
    why="$PY's torch sees no CUDA GPU (or has no torch)"
  fi
  if [ -n "$why" ]; then
    echo "run_checks: no CUDA GPU here ($why). These checks are for the device machine:"
    echo "  run tools/gpu/prepare.sh here, then the device call 'bash tools/gpu/run_checks.sh'"
    echo "  with carry ['.whl']. AFFREPRO_GPU_DRY=1 rehearses the plumbing on a CPU."
    exit 2
  fi
fi

OUT=${OUT:-$(mktemp -d /tmp/affrepro-gpu-out.XXXXXX)}
mkdir -p "$OUT"
LOG=$OUT/checks.log
SUMMARY=$OUT/summary.txt
: > "$LOG"
: > "$SUMMARY"
log() { printf '%s\n' "$*" | tee -a "$LOG"; }
note() { printf '%s\n' "$*" | tee -a "$LOG" >> "$SUMMARY"; }

# ---------------------------------------------------------------- install: the wheels + the tree
SITE=${AFFREPRO_GPU_SITE:-/tmp/site}
[ "$DRY" = 1 ] && SITE=$(mktemp -d /tmp/affrepro-gpu-site.XXXXXX)
shopt -s nullglob
wheels=(.whl/*.whl)
if [ ${#wheels[@]} -eq 0 ]; then
  note "run_checks: no wheels in .whl/: run 'bash tools/gpu/prepare.sh' here first and name .whl in carry"
  exit 3
fi
if [ "$DRY" = 1 ]; then  # the dev venv is CPython 3.11: leave out the cp312 builds (it has them)
  keep=(); for w in "${wheels[@]}"; do case "$w" in *-cp3[0-9]*-cp3[0-9]*|*-cp3[0-9]*-abi3-*) ;; *) keep+=("$w") ;; esac; done
  wheels=("${keep[@]}")
fi
rm -rf "$SITE"
if [ "${AFFREPRO_GPU_NO_PIP:-0}" != 1 ] && "$PY" -m pip --version >/dev/null 2>&1; then
  pipi() { "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
             --target "$SITE" "$@" 2>&1 | tee -a "$LOG"; return "${PIPESTATUS[0]}"; }
  if ! pipi "${wheels[@]}"; then
    # one at a time: affrepro and the pure-Python wheels must install; a binary wheel built
    # for another CPython (prepare.sh fetches cp312 ones) only costs the step that uses it
    note "run_checks: installing .whl/*.whl together failed; one at a time"
    for w in "${wheels[@]}"; do
      pipi "$w" && continue
      case "$(basename "$w")" in
        affrepro-*|*-none-any.whl) note "run_checks: installing $w failed"; exit 3 ;;
        *) note "WARNING: $(basename "$w") does not install on this python ($("$PY" -V 2>&1)): skipped" ;;
      esac
    done
  fi
else
  # no pip for this python: a wheel is a zip of site-packages, so unpacking it installs it
  # (dist-info and entry points included; no console scripts, which this script never uses)
  note "run_checks: no pip for $PY: unpacking the wheels into $SITE"
  mkdir -p "$SITE"
  for w in "${wheels[@]}"; do
    "$PY" -m zipfile -e "$w" "$SITE" 2>&1 | tee -a "$LOG" || { note "run_checks: unpacking $w failed"; exit 3; }
  done
fi
# The working tree's sources over the wheel's (the wheel may predate later edits; what the
# tests and benchmarks next to them expect is the tree): the package-dir mapping of pyproject.
stale=$(for pair in .=core kernels=kernels plugins=plugins reproductions=reproductions; do
  diff -rq -x __pycache__ -x '*.pyc' -x kernels -x plugins -x reproductions "${pair#*=}" \
    "$SITE/affrepro/${pair%%=*}" 2>&1 | sed "s|$SITE/affrepro|wheel|"; done | head -6 | tr '\n' ';')
[ -n "$stale" ] && stale=" (differs from the wheel: $stale)"
rm -rf "$SITE/affrepro"
mkdir -p "$SITE/affrepro"
cp -r core/. "$SITE/affrepro/"
for d in kernels plugins reproductions; do cp -r "$d" "$SITE/affrepro/$d"; done
find "$SITE/affrepro" -name __pycache__ -prune -exec rm -rf {} +
if [ -f .whl/pyproject.sha256 ] && [ "$(sha256sum pyproject.toml | cut -d' ' -f1)" != "$(cat .whl/pyproject.sha256)" ]; then
  note "WARNING: pyproject.toml changed since prepare.sh built the wheel: entry points may be stale; rerun prepare.sh"
fi
export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}
if [ "$DRY" = 1 ]; then  # the GPU image has no mlflow, librosa, mosqito, ftfy, textblob, vaderSentiment
  cat > "$SITE/sitecustomize.py" <<'PYEOF'
import importlib.abc, sys
_BLOCKED = {"mlflow", "librosa", "mosqito", "ftfy", "textblob", "vaderSentiment"}
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: not on the GPU image)", name=name)
        return None
sys.meta_path.insert(0, _Block())
PYEOF
  if "$PY" -c 'import mlflow' >/dev/null 2>&1; then note "run_checks: the dry run's import blocker is not active"; exit 3; fi
fi
# the commit these sources came from ($SITE/affrepro is a copy, not a checkout). A device
# copy's .git can lag behind its working tree (one sat at an older commit, its tree dirty):
# an AFFREPRO_GIT_COMMIT given with the command (prepare.sh prints it) wins.
if [ -n "${AFFREPRO_GIT_COMMIT:-}" ]; then
  export AFFREPRO_GIT_COMMIT
elif commit=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null); then
  [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit-dirty"
  export AFFREPRO_GIT_COMMIT=$commit
fi
export AFFREPRO_HOME=$(mktemp -d /tmp/affrepro-home.XXXXXX)
export AFFREPRO_DATA_DIR=$AFFREPRO_HOME/data
unset MLFLOW_TRACKING_URI AFFREPRO_STRICT_PLUGINS AFFREPRO_LOAD_PLUGINS AFFREPRO_DATA_MIRROR
affrepro() { "$PY" -m affrepro.cli "$@"; }

# ---------------------------------------------------------------- the machine
{
  echo "== affrepro GPU checks $(date -u +%Y-%m-%dT%H:%M:%SZ)$([ "$DRY" = 1 ] && echo ' DRY RUN (CPU rehearsal)')"
  echo "steps: ${STEPS[*]}; budget ${BUDGET}s; python $PY; site $SITE; sources: working tree$stale"
  echo "commit: ${AFFREPRO_GIT_COMMIT:-no .git here} (this copy's .git: $(git rev-parse --short HEAD 2>/dev/null || echo none))"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader
  "$PY" - <<'PYEOF'
import importlib.metadata as md, platform
names = ["affrepro", "torch", "triton", "numba", "numpy", "scipy", "pandas", "pytest",
         "pytest-benchmark", "torchmetrics", "platformdirs", "soundfile", "mlflow", "librosa"]
vs = []
for n in names:
    try:
        vs.append(f"{n} {md.version(n)}")
    except md.PackageNotFoundError:
        vs.append(f"{n} -")
print("python", platform.python_version(), "|", ", ".join(vs))
import affrepro
print("affrepro imported from", affrepro.__file__)
try:
    import torch
    print("torch.cuda:", torch.version.cuda, "| available:", torch.cuda.is_available(),
          "|", torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU")
except Exception as exc:
    print("torch:", type(exc).__name__, exc)
PYEOF
} 2>&1 | tee -a "$LOG" >> "$SUMMARY"
[ "$DRY" = 1 ] || nvidia-smi 2>&1 | tee -a "$LOG" >/dev/null
# plugins that fail to import on this image (listed, not fatal: the steps load what they use)
"$PY" - <<'PYEOF' 2>&1 | tee -a "$LOG" >> "$SUMMARY"
from affrepro.plugin_manager import get_state
st = get_state()
bad = {name: info.error for name, info in st.plugins.items() if getattr(info, "error", None)}
print(f"plugins: {len(st.plugins)} loaded" + ("" if not bad else "; failed: " + "; ".join(
    f"{k}: {str(v).strip().splitlines()[-1][:160]}" for k, v in bad.items())))
PYEOF

# ---------------------------------------------------------------- steps
FAILED=0
step() {  # step NAME TIMEOUT_S CMD...: runs CMD with the timeout (cut to the budget left)
  local name=$1 limit=$2; shift 2
  local left=$((DEADLINE - $(date +%s)))
  if [ "$left" -lt 20 ]; then
    note "$(printf '%-15s SKIPPED  (the %ss budget is spent)' "$name" "$BUDGET")"; FAILED=1; return
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  log "" "================ $name (timeout ${limit}s): $*"
  local t=$(date +%s)
  # timeout signals its whole process group: pytest's subprocesses end with it
  timeout -k 15 "$limit" bash -c '"$@"' "$name" "$@" 2>&1 | tee -a "$LOG"
  local rc=${PIPESTATUS[0]}
  local took=$(($(date +%s) - t)) verdict=PASSED
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then verdict="TIMEOUT"; elif [ "$rc" != 0 ]; then verdict="FAILED"; fi
  [ "$verdict" = PASSED ] || FAILED=1
  note "$(printf '%-15s %-8s rc=%-3s %4ss' "$name" "$verdict" "$rc" "$took")"
}

run_tests() {  # AFFREPRO_GPU_TEST_PATHS: other test files (default: the three kernels, features)
  # shellcheck disable=SC2086
  "$PY" -m pytest -p no:cacheprovider -q -rs -o addopts= --import-mode=importlib \
    ${AFFREPRO_GPU_TEST_PATHS:-tests/kernels/spectral/test_spectral_triton.py tests/kernels/moments tests/kernels/gaussian_posterior tests/plugins/features/test_features.py tests/kernels/sound_level/test_mean_square_triton.py tests/kernels/zwicker/test_time_varying_triton.py tests/kernels/sound_level/test_third_octave_gpu_path.py tests/kernels/roughness/test_roughness_gpu_path.py} \
    -k "(cuda or triton or gpu) and not under_the_interpreter and not under_interpreter" "$@"
}

bench() {  # bench KERNEL [-k EXPR]
  local kernel=$1; shift
  affrepro bench run --device "$BENCH_DEVICE" --kernels "$kernel" --suite-dir benchmarks \
    --no-track -o "$OUT/bench_$kernel.json" "$@"
}

araus() {
  local dir=$AFFREPRO_HOME/araus-out
  affrepro reproduce araus-2022 --dry-run --device cuda --no-track -o "$dir"
  local rc=$?
  [ -f "$dir/report.json" ] && cp "$dir/report.json" "$OUT/araus_report.json"
  [ "$rc" = 0 ] || return "$rc"
  # the CNN stage must have run, and (on the GPU) on CUDA
  "$PY" - "$dir/report.json" "$DRY" <<'PYEOF'
import json, sys
rep = json.load(open(sys.argv[1]))
dry = sys.argv[2] == "1"
for c in rep.get("claims", []):
    if "-cnn-" in c.get("id", ""):
        print(f"CNN claim {c['id']}: measured {c.get('measured')}, {c.get('verdict')}")
details = rep.get("details", {})
if details.get("cnn_error"):
    print("the CNN stage failed:\n" + details["cnn_error"][-3000:])
    sys.exit(1)
note = details.get("araus_cnn") or {}
print("araus_cnn:", {k: note.get(k) for k in ("device", "gpu", "seeds", "training", "seconds")})
if not note:
    sys.exit("no araus_cnn note: the CNN stage did not run")
if not dry and not str(note.get("device", "")).startswith("cuda"):
    sys.exit(f"the CNN ran on {note.get('device')!r}, not on CUDA")
PYEOF
}

fusion() {  # bench KERNEL [-k EXPR]: the CUDA correctness cases first, then the benchmark
  "$PY" -m pytest -p no:cacheprovider -q -rs -o addopts= --import-mode=importlib \
    tests/kernels/fusion/test_fusion_triton.py -k cuda
  local rc=$?
  bench fusion "$@" || rc=1
  return "$rc"
}

export PY OUT DRY BENCH_DEVICE
export -f affrepro run_tests bench araus fusion
for s in "${STEPS[@]}"; do
  case $s in
    tests)          step tests "$TESTS_S" run_tests ;;
    bench_spectral) step bench_spectral 180 bench spectral "${SPECTRAL_K[@]}" ;;
    bench_moments)  step bench_moments 90 bench moments "${MOMENTS_K[@]}" ;;
    sweep)          if [ "$DRY" = 1 ]; then note "sweep           SKIPPED  (needs CUDA: not rehearsed)"
                    else  # its own budget: the step's limit (150 s or what is left) less 30 s
                      sweep_left=$((DEADLINE - $(date +%s))); [ "$sweep_left" -gt 150 ] && sweep_left=150
                      sweep_budget=$((sweep_left - 30)); [ "$sweep_budget" -lt 10 ] && sweep_budget=10
                      step sweep 150 "$PY" tools/gpu/sweep_spectral.py "$OUT/sweep_spectral.json" --budget-s "$sweep_budget" --pick "$OUT/picked.env"
                      if [ -s "$OUT/picked.env" ]; then  # the later steps run the fastest accurate variant
                        set -a; . "$OUT/picked.env"; set +a
                        note "sweep picked: $(tr '\n' ' ' < "$OUT/picked.env")"
                      fi
                    fi ;;
    araus)          step araus 90 araus ;;
    bench_psycho)   if [ "$DRY" = 1 ]; then note "bench_psycho    SKIPPED  (needs CUDA: not rehearsed)"
                    else step bench_psycho 240 bench psychoacoustics -k issue24; fi ;;
    fusion)         step fusion 240 fusion "${FUSION_K[@]}" ;;
  esac
done

# ---------------------------------------------------------------- summary
for k in spectral moments fusion; do
  f=$OUT/bench_$k.json
  [ -f "$f" ] || continue
  "$PY" - "$f" <<'PYEOF' 2>&1 | tee -a "$LOG" >> "$SUMMARY"
import json, sys
d = json.load(open(sys.argv[1]))
ident = d.get("machine_info", {}).get("affrepro", {})
print(f"{sys.argv[1].rsplit('/', 1)[-1]}: {len(d['benchmarks'])} benchmarks, label "
      f"{ident.get('device_label')} (gpu {ident.get('gpu')}, cuda {ident.get('cuda')}, driver "
      f"{ident.get('gpu_driver')})")
for b in d["benchmarks"]:
    ex = b.get("extra_info", {})
    keys = ("max_abs_err_db", "do_bench_ms", "speedup_vs_torch_eager", "torch_eager_ms", "ours_ms",
            "torchmetrics_ms", "speedup_vs_peer")
    print(f"  {b['name']}: min {b['stats']['min'] * 1e3:.3f} ms; "
          + ", ".join(f"{k} {ex[k]:.4g}" for k in keys if isinstance(ex.get(k), (int, float))))
PYEOF
done
note "total $(( $(date +%s) - T0 ))s; results in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
if [ "$DRY" != 1 ] && ls "$OUT"/bench_*.json >/dev/null 2>&1; then
  note "next, here: bash tools/gpu/collect.sh <files_at>   (copies the bench JSON into benchmarks/results/cuda-<gpu>/)"
fi
log "" "================ summary"
cat "$SUMMARY"
[ "$DRY" = 1 ] && rm -rf "$SITE" "$AFFREPRO_HOME"
[ "$FAILED" = 0 ] && exit 0 || exit 1
