#!/usr/bin/env bash
# One prepared GPU check for a lent machine (~8 minutes in all). From the repository root:
#   bash bench/gpu.sh            (results also saved under $OUT, or /tmp/fairmot-gpu)
# 1. installs this package with the machine's own torch (never replaces torch);
# 2. runs the deformable-conv tests (pure PyTorch vs torchvision.ops.deform_conv2d on CUDA);
# 3. makes a small synthetic dataset (`fairmot synth`; skipped if the data stack is missing);
# 4. trains dla34 with the real DCN path under AMP: it/s and peak memory, from LOAD_MODEL (a
#    pretrained start such as ctdet_coco_dla_2x.pth carried to the machine) when set;
# 5. inference FPS of dla34 at 1088x608, batch 1 and 8, fp32 and AMP.
# Steps 2-3 are optional: a failure is reported and the benchmark goes on with random tensors.
# Overrides (for a CPU smoke test of this script): DEVICE=cpu ARCH=lite WIDTH=128 HEIGHT=64
# BATCH=2 INFER_BATCHES=1 SKIP_INSTALL=1 BUDGET_S=240 PYTHON=.venv/bin/python bash bench/gpu.sh
set -euo pipefail

cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
RESULTS=${OUT:-/tmp/fairmot-gpu}
mkdir -p "$RESULTS"
LOG="$RESULTS/gpu_bench.log"
BUDGET_S=${BUDGET_S:-480}   # the whole script stays inside ~8 minutes
DEVICE=${DEVICE:-cuda}
ARCH=${ARCH:-dla34}
WIDTH=${WIDTH:-1088}
HEIGHT=${HEIGHT:-608}
BATCH=${BATCH:-8}
read -r -a INFER_BATCHES <<< "${INFER_BATCHES:-1 8}"
SIZE=(--device "$DEVICE" --arch "$ARCH" --width "$WIDTH" --height "$HEIGHT")
START_ARGS=()
[[ -n "${LOAD_MODEL:-}" ]] && START_ARGS=(--load-model "$LOAD_MODEL")
START=$SECONDS

remaining() { echo $((BUDGET_S - (SECONDS - START))); }
say() { echo "[gpu.sh +$((SECONDS - START))s] $*" | tee -a "$LOG"; }

say "python: $($PY --version 2>&1)"
DEVICE="$DEVICE" $PY - <<'PYEOF' 2>&1 | tee -a "$LOG"
import os
import torch
print(f"torch {torch.__version__} cuda={torch.version.cuda} available={torch.cuda.is_available()}")
if os.environ["DEVICE"] == "cuda":
    assert torch.cuda.is_available(), "no CUDA device visible"
    print("device", torch.cuda.get_device_name(0))
PYEOF

TORCH_BEFORE=$($PY -c 'import torch; print(torch.__version__)')
# Never let pip touch torch: a constraints file pins the installed version.
echo "torch==$TORCH_BEFORE" > "$RESULTS/constraints.txt"
if [[ -n "${SKIP_INSTALL:-}" ]]; then
  say "SKIP_INSTALL set: using the environment as it is"
else
  say "installing fairmot (editable, torch pinned at $TORCH_BEFORE)"
  # Lent machines are often offline: fail fast (no retries) and fall back to --no-deps.
  if ! timeout 120 $PY -m pip install -q --retries 0 --timeout 10 \
      -c "$RESULTS/constraints.txt" -e . >>"$LOG" 2>&1; then
    say "full install failed (offline?): installing without dependencies"
    timeout 60 $PY -m pip install -q --no-deps --no-build-isolation -e . >>"$LOG" 2>&1 \
      || say "editable install failed too: using PYTHONPATH"
  fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
TORCH_AFTER=$($PY -c 'import torch; print(torch.__version__)')
if [[ "$TORCH_AFTER" != "$TORCH_BEFORE" ]]; then
  say "ERROR: torch changed from $TORCH_BEFORE to $TORCH_AFTER"; exit 1
fi
$PY -c 'import pydantic, fairmot.model' 2>>"$LOG" \
  || { say "ERROR: fairmot.model does not import (pydantic missing?); see $LOG"; exit 1; }

say "deformable conv tests (torchvision agreement runs if torchvision imports)"
if timeout 120 $PY -m pytest -q -p no:cacheprovider tests/unit/test_model_dcn.py >>"$LOG" 2>&1; then
  say "dcn tests passed: $(tail -n 1 "$LOG")"
else
  say "dcn tests FAILED or pytest missing: $(tail -n 3 "$LOG" | tr '\n' ' ')"
fi

DATASET="$RESULTS/synth"
DATASET_ARGS=()
say "synthetic dataset -> $DATASET"
rm -rf "$DATASET"
if timeout 90 $PY -m fairmot synth "$DATASET" --sequences 4 --frames 40 --width "$WIDTH" \
    --height "$HEIGHT" --seed 0 >>"$LOG" 2>&1; then
  DATASET_ARGS=(--dataset "$DATASET")
else
  say "fairmot synth failed: training on random tensors (see $LOG)"
fi

FAILED=0
TRAIN_S=$(( ($(remaining) - 150) / 2 ))
(( TRAIN_S > 20 )) || TRAIN_S=20
if (( ${#DATASET_ARGS[@]} )); then
  say "training $ARCH (AMP) on the synthetic set: up to 300 iterations / ${TRAIN_S}s"
  timeout $((TRAIN_S + 90)) $PY bench/gpu_bench.py train "${SIZE[@]}" --batch "$BATCH" --iters 300 \
    --train-seconds "$TRAIN_S" "${DATASET_ARGS[@]}" ${START_ARGS[@]+"${START_ARGS[@]}"} 2>&1 | tee -a "$LOG" \
    || { FAILED=1; say "training bench on the dataset FAILED"; }
fi
say "training $ARCH (AMP) on random tensors (compute only, no data loading): ${TRAIN_S}s"
timeout $((TRAIN_S + 90)) $PY bench/gpu_bench.py train "${SIZE[@]}" --batch "$BATCH" --iters 300 \
  --train-seconds "$TRAIN_S" 2>&1 | tee -a "$LOG" \
  || { FAILED=1; say "training bench on random tensors FAILED"; }

INFER_S=$(( ($(remaining) - 30) / 4 ))
(( INFER_S > 5 )) || INFER_S=5
say "inference fps of $ARCH at ${WIDTH}x${HEIGHT} (batch ${INFER_BATCHES[*]}, fp32 and bf16; up to ${INFER_S}s each)"
timeout $((4 * INFER_S + 60)) $PY bench/gpu_bench.py infer "${SIZE[@]}" --infer-batches "${INFER_BATCHES[@]}" \
  --infer-seconds "$INFER_S" 2>&1 | tee -a "$LOG" \
  || { FAILED=1; say "inference bench FAILED"; }

say "done in $((SECONDS - START))s; log at $LOG"
exit "$FAILED"
