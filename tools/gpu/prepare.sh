#!/usr/bin/env bash
# Run HERE (the CPU machine, with PyPI) before a device call: fills .whl/ with what the GPU
# image lacks for tools/gpu/run_checks.sh, for CPython 3.12 manylinux x86_64:
#   - affrepro itself, built from the working tree (tracked + untracked-not-ignored files,
#     which is what the device call copies); run_checks.sh also overlays the working tree's
#     sources on it, so the wheel only has to supply metadata, entry points and the script;
#   - platformdirs (affrepro.paths), soundfile + cffi + pycparser (the ARAUS dry run writes WAVs),
#     soxr (features extract resamples with it; pyarrow is on the image), ducc0 (the roughness
#     kernel's FFTs).
# The image already has torch, triton, numba, numpy, scipy, pandas, scikit-learn, pluggy,
# click, rich, filelock, pytest, pytest-benchmark, torchmetrics. mlflow, librosa and mosqito
# are NOT carried: the GPU checks run with --no-track and never import them.
# Usage: bash tools/gpu/prepare.sh      (PYTHON=... to choose the interpreter; default .venv)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python3

# pinned: the versions the dev venv was tested with (keep one version of each)
EXTRA_WHEELS=(platformdirs==4.14.8 soundfile==0.14.0 cffi==2.1.1 pycparser==3.12 soxr==1.1.0
              ducc0==0.42.0)

exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qxF '/.whl/' "$exclude" 2>/dev/null || echo '/.whl/' >> "$exclude"
git check-ignore -q .whl/x.whl || { echo "prepare: .whl/ is not ignored by git" >&2; exit 1; }

rm -rf .whl
mkdir -p .whl

# 1. the affrepro wheel, built in a scratch copy so that no build/ or *.egg-info lands here
tmp=$(mktemp -d /tmp/affrepro-wheel.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
git ls-files -z --cached --others --exclude-standard -- pyproject.toml setup.py README.md core kernels \
    plugins reproductions | while IFS= read -r -d '' f; do
  [ -e "$f" ] && mkdir -p "$tmp/src/$(dirname "$f")" && cp -p "$f" "$tmp/src/$f"
done
echo "prepare: building the affrepro wheel with $PY"
(cd "$tmp/src" && "$PY" -m build --wheel --no-isolation --outdir "$ROOT/.whl" >"$tmp/build.log" 2>&1) \
  || { tail -40 "$tmp/build.log" >&2; echo "prepare: wheel build failed" >&2; exit 1; }
sha256sum pyproject.toml | cut -d' ' -f1 > .whl/pyproject.sha256

# 2. what the GPU image lacks, for CPython 3.12 on manylinux x86_64 (no dependencies pulled:
#    each needed one is named above)
echo "prepare: downloading ${EXTRA_WHEELS[*]}"
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --platform manylinux1_x86_64 -d .whl "${EXTRA_WHEELS[@]}"

# 3. every wheel must install on the image's CPython 3.12 x86_64
bad=0
for w in .whl/*.whl; do
  tags=$(basename "$w" .whl | awk -F- '{print $(NF-2)"-"$(NF-1)"-"$NF}')
  case "$tags" in
    *cp312-cp312-*x86_64|*-abi3-*x86_64|py3*-none-any|py2.py3-none-any|py3-none-*x86_64|py2.py3-none-*x86_64) ;;
    *) echo "prepare: $w has tags $tags, not for CPython 3.12 x86_64" >&2; bad=1 ;;
  esac
done
[ "$bad" = 0 ] || exit 1
n=$(ls .whl/*.whl | wc -l)
[ "$n" = $((1 + ${#EXTRA_WHEELS[@]})) ] || { echo "prepare: expected $((1 + ${#EXTRA_WHEELS[@]})) wheels, got $n" >&2; exit 1; }

ls -l .whl
total=$(du -cb .whl | tail -1 | cut -f1)
echo "prepare: .whl/ holds $n wheels, $((total / 1024)) KiB (the device call carries at most 64 MiB with the tree)"
# the commit the results will name (the device copy's own .git may lag behind its tree)
commit=$(git rev-parse HEAD)
[ -n "$(git status --porcelain --untracked-files=no)" ] && commit="$commit-dirty"
echo "prepare: next, the device call: command 'AFFREPRO_GIT_COMMIT=$commit bash tools/gpu/run_checks.sh', carry ['.whl'], timeout_s 560"
echo "  (15 min of device time: 'AFFREPRO_GIT_COMMIT=$commit AFFREPRO_GPU_BUDGET_S=330 AFFREPRO_GPU_TEST_PATHS=tests/kernels/spectral/test_spectral_triton.py bash tools/gpu/run_checks.sh sweep bench_spectral tests', timeout_s 370)"
echo "  (commit first: a commit made after this line leaves AFFREPRO_GIT_COMMIT behind)"
