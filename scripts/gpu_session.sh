#!/usr/bin/env bash
# Every GPU measurement of the project in one go (under 10 minutes on one H100; SECONDS counts from the start), for a short GPU lease:
#   1. the mini-GPT GPU config end to end (val loss target 1.47, time to reach it, tokens/s vs a plain loop),
#   2. the precision and speed benchmarks on CUDA (benchmarks/gpu_suite.sh),
#   3. the test suite on CUDA (pytest --device cuda).
#   Optional stage "seeds": the GPU config's spread over 2 more seeds, up to step 2500, about 75 s each (the
#   schedule is set by lr_decay_steps=5000, so these are the full run's first 2500 steps; the minimum is near 1750).
# STAGES picks and orders them (default "minigpt sample benchmarks pytest_cuda"), e.g. when the benchmarks were
# measured before: STAGES="minigpt sample seeds pytest_cuda" scripts/gpu_session.sh OUT
# Usage: scripts/gpu_session.sh OUT_DIR     (run from the repository root; the corpus must be in data/ or
#        $AIMATH_CORPUS_PATH, since GPU machines are often offline). Each stage has its own time limit and its
#        log under OUT_DIR, so one failing stage does not cost the others.
set -u
OUT=${1:?usage: scripts/gpu_session.sh OUT_DIR}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
stage() {  # stage NAME SECONDS COMMAND...
  local name=$1 limit=$2; shift 2
  local start=$(date +%s)
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  echo "== $name: exit $rc after $(( $(date +%s) - start )) s (limit $limit s)" | tee -a "$OUT/summary.txt"
  tail -n 6 "$OUT/$name.log"
}
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv | tee "$OUT/summary.txt"
python3 -c "import torch, lightning; print('torch', torch.__version__, 'lightning', lightning.__version__)" | tee -a "$OUT/summary.txt"

STAGES=${STAGES:-minigpt sample benchmarks pytest_cuda}
for name in $STAGES; do case $name in
  minigpt) stage minigpt "${MINIGPT_LIMIT:-280}" python3 -m benchmarks.minigpt --config configs/minigpt_shakespeare_gpu.yaml \
             --out "$OUT" --trainer.enable_progress_bar false --trainer.logger.init_args.save_dir "$OUT/runs" ;;
  sample) ckpt=$(ls "$OUT"/runs/minigpt_shakespeare_gpu/version_0/checkpoints/best.ckpt 2>/dev/null)
          [ -n "$ckpt" ] && stage sample 30 python3 -m torch_versions.sample --ckpt "$ckpt" --prompt "ROMEO:" \
             --max-new-tokens 500 --temperature 0.8 --top-k 200 ;;
  seeds) stage seeds "${SEEDS_LIMIT:-240}" python3 -m benchmarks.minigpt --config configs/minigpt_shakespeare_gpu.yaml \
           --seeds 1 2 --probes 2 --probe-steps 5 --trainer.max_steps 2500 --out "$OUT/seeds" --trainer.enable_progress_bar false \
           --trainer.logger.init_args.save_dir "$OUT/seed_runs" ;;
  benchmarks) [ -f benchmarks/gpu_suite.sh ] && stage benchmarks "${BENCH_LIMIT:-210}" bash benchmarks/gpu_suite.sh "$OUT/bench" ;;
  pytest_cuda)  # the suite gets what is left of a 10-minute lease command (TOTAL seconds), at least a minute
    left=$(( ${TOTAL:-585} - SECONDS )); [ $left -lt 60 ] && left=60
    stage pytest_cuda "${PYTEST_LIMIT:-$left}" python3 -m pytest -q -rf --maxfail=25 --device cuda -p no:cacheprovider \
      --ignore=tests/test_notebooks.py -n 8 ;;
  *) echo "unknown stage $name (minigpt sample seeds benchmarks pytest_cuda)" | tee -a "$OUT/summary.txt" ;;
esac; done
# TensorBoard events and the resolved config of the GPU run, without the checkpoints (kept small for the trip back).
# (At most 8 files come back from a lent machine: folders travel as archives.)
rm -rf "$OUT/seed_runs"  # the seeds' JSON (history of val losses) is under $OUT/seeds
for dir in runs bench seeds; do
  [ -d "$OUT/$dir" ] && tar -czf "$OUT/$dir.tar.gz" --exclude='*.ckpt' -C "$OUT" "$dir" && rm -rf "$OUT/$dir"
done
cat "$OUT/summary.txt"
ls "$OUT"/*.log >/dev/null 2>&1 && tar -czf "$OUT/logs.tar.gz" -C "$OUT" $(cd "$OUT" && ls *.log) && rm -f "$OUT"/*.log
