#!/usr/bin/env bash
# One prepared GPU check for a lent machine (~8 minutes in all). From the repository root:
#   bash bench/gpu.sh            (results also saved under $OUT, or /tmp/fairmot-gpu)
# 1. installs this package with the machine's own torch (never replaces torch);
# 2. runs the deformable-conv tests (pure PyTorch vs torchvision.ops.deform_conv2d on CUDA);
# 3. makes a small synthetic dataset (`fairmot synth`; skipped if the data stack is missing);
# 4. trains dla34 with the real DCN path under AMP: it/s and peak memory;
# 5. inference FPS of dla34 at 1088x608, batch 1 and 8, fp32 and AMP.
# Steps 2-3 are optional: a failure is reported and the benchmark goes on with random tensors.
set -euo pipefail

cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
RESULTS=${OUT:-/tmp/fairmot-gpu}
mkdir -p "$RESULTS"
LOG="$RESULTS/gpu_bench.log"
BUDGET_S=${BUDGET_S:-480}   # the whole script stays inside ~8 minutes
START=$SECONDS

remaining() { echo $((BUDGET_S - (SECONDS - START))); }
say() { echo "[gpu.sh +$((SECONDS - START))s] $*" | tee -a "$LOG"; }

say "python: $($PY --version 2>&1)"
$PY - <<'PYEOF' 2>&1 | tee -a "$LOG"
import torch
print(f"torch {torch.__version__} cuda={torch.version.cuda} available={torch.cuda.is_available()}")
assert torch.cuda.is_available(), "no CUDA device visible"
print("device", torch.cuda.get_device_name(0))
PYEOF

TORCH_BEFORE=$($PY -c 'import torch; print(torch.__version__)')
# Never let pip touch torch: a constraints file pins the installed version.
echo "torch==$TORCH_BEFORE" > "$RESULTS/constraints.txt"
say "installing fairmot (editable, torch pinned at $TORCH_BEFORE)"
if ! timeout 120 $PY -m pip install -q -c "$RESULTS/constraints.txt" -e . >>"$LOG" 2>&1; then
  say "full install failed (offline?): installing without dependencies"
  timeout 60 $PY -m pip install -q --no-deps --no-build-isolation -e . >>"$LOG" 2>&1 \
    || say "editable install failed too: using PYTHONPATH"
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
if timeout 90 $PY -m fairmot synth "$DATASET" --sequences 4 --frames 40 --width 1088 \
    --height 608 --seed 0 >>"$LOG" 2>&1; then
  DATASET_ARGS=(--dataset "$DATASET")
else
  say "fairmot synth failed: training on random tensors (see $LOG)"
fi

TRAIN_S=$(( $(remaining) - 150 ))
(( TRAIN_S > 30 )) || TRAIN_S=30
say "training dla34 (DCN, AMP) for up to 300 iterations / ${TRAIN_S}s"
timeout $((TRAIN_S + 90)) $PY bench/gpu_bench.py train --arch dla34 --batch 8 --iters 300 \
  --train-seconds "$TRAIN_S" ${DATASET_ARGS[@]+"${DATASET_ARGS[@]}"} 2>&1 | tee -a "$LOG"

INFER_S=$(( ($(remaining) - 20) / 4 ))
(( INFER_S > 5 )) || INFER_S=5
say "inference fps at 1088x608 (batch 1 and 8, fp32 and bf16; ${INFER_S}s each)"
timeout $((4 * INFER_S + 60)) $PY bench/gpu_bench.py infer --arch dla34 \
  --infer-seconds "$INFER_S" 2>&1 | tee -a "$LOG"

say "done; log at $LOG"
