#!/usr/bin/env bash
# GPU checks of the speed and footprint work, for a machine with a CUDA GPU and no network.
#
#   bash benchmarks/gpu_check.sh        # from anywhere; takes a few minutes
#
# Installs nothing, except the wheels in ./wheels (or the folder $WHEELS names) when that folder
# exists. Prints the card's name, then runs the GPU-marked tests, the latency and resources probes
# on CUDA, the multiple-choice benchmark against lm-eval on the GPU (random Llama-3.2-1B shape,
# bfloat16: requests/s and model FLOPs utilisation against the card's peak), and the deployment
# variants of the packaged SmolLM2 on CUDA (variants whose package or provider is missing here,
# e.g. onnxruntime-gpu, bitsandbytes or torchao, are skipped with the reason).
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

echo "== multiple-choice scoring against lm-eval on the GPU (requests/s and MFU)"
# Dense bfloat16 peak of the card, for the model FLOPs utilisation mc_vs_lm_eval.py prints.
PEAK_TFLOPS=$("$PYTHON" - <<'PY'
import torch

words = torch.cuda.get_device_name(0).replace("-", " ").split()
peaks = {"H200": 989, "H100": 989, "A100": 312, "L4": 121}  # dense bf16 TFLOP/s; H100: SXM
peak = next((tflops for card, tflops in peaks.items() if card in words), None)
if "H100" in words and ("PCIe" in words or "NVL" in words):
    peak = None
print(peak or "")
PY
)
if [ -n "$PEAK_TFLOPS" ]; then
  echo "peak: $PEAK_TFLOPS TFLOP/s dense bf16"
  "$PYTHON" benchmarks/mc_vs_lm_eval.py --device cuda --dtype bfloat16 --random-llama-1b \
    --peak-tflops "$PEAK_TFLOPS"
else
  echo "unknown card: its MFU below assumes mc_vs_lm_eval.py's default peak (989 TFLOP/s)"
  "$PYTHON" benchmarks/mc_vs_lm_eval.py --device cuda --dtype bfloat16 --random-llama-1b
fi

echo "== deployment variants on CUDA"
"$PYTHON" benchmarks/deployment_variants.py --device cuda --limit 200 \
  || echo "deployment variants: exit $? (a variant failed: see its error row above)"
