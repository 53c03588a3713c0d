#!/usr/bin/env bash
# Every GPU check and benchmark in one run, for a session that has a CUDA machine
# (the device tool runs it from the repository root; results land in $OUT or ./gpu-out).
# Budget: about 8 minutes on an H100/H200. Record the numbers in benchmarks/RESULTS.md
# with the device name the script prints.
set -uo pipefail
out="${OUT:-gpu-out}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
py=${PYTHON:-python3}
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $py -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))"
  echo "== GPU tests"
  timeout 240 $py -m pytest -q -m gpu -p no:cacheprovider tests/
  echo "== LaMa per crop (random weights), bf16 vs fp32"
  timeout 240 $py benchmarks/lama.py --device cuda
  echo "== OCR models on CUDA"
  timeout 180 $py benchmarks/ocr_models.py --no-cpu
  echo "== OCR stage vs rapidocr, torch backend rows"
  timeout 240 $py benchmarks/ocr.py --spreads 32 --strips 2 --no-cli
  echo "== Pipeline with LaMa (random weights), pipelined vs sequential"
  timeout 300 $py benchmarks/pipeline.py --spreads 64 --strips 2 --compare --device cuda \
    --inpainter lama-random --batch-size 16
} 2>&1 | tee "$out/gpu_check.log"
