#!/usr/bin/env bash
# GPU checks of the speed and footprint work, for a machine with a CUDA GPU and no network.
#
#   bash benchmarks/gpu_check.sh        # from anywhere; takes a few minutes
#
# Installs nothing, except the wheels in ./wheels (or the folder $WHEELS names) when that folder
# exists. Prints the card's name, then runs the GPU-marked tests, the latency and resources probes
# on CUDA, and the multiple-choice benchmark on the GPU (random Llama-3.2-1B shape, bfloat16).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; fi
WHEELS=${WHEELS:-wheels}
if [ -d "$WHEELS" ] && ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  "$PYTHON" -m pip install --quiet --no-index --find-links "$WHEELS" "$WHEELS"/*.whl
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1

"$PYTHON" - <<'PY'
import torch

if not torch.cuda.is_available():
    raise SystemExit("no CUDA device: nothing to check")
print(f"card: {torch.cuda.get_device_name(0)}; torch {torch.__version__}; CUDA {torch.version.cuda}")
PY

echo "== tests marked gpu"
"$PYTHON" -m pytest -q -m gpu -p no:cacheprovider

echo "== latency and resources probes on CUDA"
"$PYTHON" benchmarks/speed_probes.py --model tiny --device cuda
"$PYTHON" benchmarks/speed_probes.py --model random-llama-1b --device cuda --dtype bfloat16 \
  --prompt-tokens 128 512 --new-tokens 32 --batch-sizes 1 8

echo "== multiple-choice scoring against lm-eval on the GPU"
"$PYTHON" benchmarks/mc_vs_lm_eval.py --device cuda --dtype bfloat16 --random-llama-1b
