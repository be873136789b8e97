#!/usr/bin/env bash
# Every GPU measurement of the precision and speed benchmarks, in one go (1-2.5 minutes on an H100):
#
#   bash benchmarks/gpu_suite.sh results/h100            # from anywhere; runs from the repository root
#
# Writes under OUT: env.txt (torch, GPU, nvidia-smi), NAME.log and NAME.stderr.txt per part, matmul/ attention/ training/ (speed.json, speed.md, PNGs),
# precision/ (precision.json, precision.md, PNGs) and registry/ (the registry concepts in fp16/bf16/fp32 on CUDA).
# Each part is a separate process with its own timeout, so a slow or failing part leaves the others' results.
# Needs only torch (CUDA build), numpy, matplotlib, tqdm and scikit-learn/threadpoolctl; the repository need not be
# pip-installed (PYTHONPATH is set here). DEVICE=cpu EXTRA=--smoke dry-runs the script on a machine without a GPU.
set -uo pipefail
OUT=${1:?usage: bash benchmarks/gpu_suite.sh OUT_DIR}
DEVICE=${DEVICE:-cuda}
EXTRA=${EXTRA:-}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.." || exit 1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
start=$SECONDS

{
  date -u
  $PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available());
print(torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,power.limit --format=csv
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
if [ "$DEVICE" = cuda ] && ! $PY -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "CUDA is not available: nothing to measure (DEVICE=cpu EXTRA=--smoke for a dry run)" >&2
  exit 2
fi

status=0
part() {  # part NAME TIMEOUT_S COMMAND...: run one benchmark process, keep going on failure
  local name=$1 limit=$2
  shift 2
  echo "=== $name (limit ${limit}s, at $((SECONDS - start))s)"
  if ! timeout "$limit" "$@" 2>"$OUT/$name.stderr.txt" | tee "$OUT/$name.log"; then
    echo "!!! $name failed or timed out; the end of $OUT/$name.stderr.txt:"
    tail -c 2000 "$OUT/$name.stderr.txt"
    status=1
  fi
}

# Speed: matmul 256..8192 in fp64/fp32/tf32/bf16/fp16 (the 8192^3 bf16 product: warm-up 5, median of 20, CUDA
# events), attention naive vs SDPA over T = 256..8192, then the MLP and transformer-block training steps.
# The headline dtypes first; --max-seconds stops starting new measurements (outputs are still written), the
# timeout is the backstop. Worst case about 150 s in all, typically less.
SPEED=(-m benchmarks.speed --device "$DEVICE" --warmup 5 --repeats 20 --time-budget 10
       --dtypes bfloat16 float16 tf32 float32 float64 $EXTRA)
part matmul 45 $PY "${SPEED[@]}" --cases matmul --max-seconds 25 --out "$OUT/matmul"
part attention 40 $PY "${SPEED[@]}" --cases attention --max-seconds 20 --out "$OUT/attention"
part training 45 $PY "${SPEED[@]}" --cases mlp block --max-seconds 25 --out "$OUT/training"
# Precision on CUDA: kernels and failure demos, then the registry concepts.
PREC=(-m benchmarks.precision --device "$DEVICE" $EXTRA)
part precision 35 $PY "${PREC[@]}" --sections kernel failure --max-seconds 15 --out "$OUT/precision"
part registry 40 $PY "${PREC[@]}" --sections registry --max-seconds 20 --out "$OUT/registry"

echo "=== done in $((SECONDS - start)) s; headlines:"
cat "$OUT"/matmul/speed.md "$OUT"/attention/speed.md 2>/dev/null | grep '^- ' || true
exit $status
