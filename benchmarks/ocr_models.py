"""Per-model timing of the PP-OCR networks: torch interpreter vs onnxruntime, CPU and CUDA.

Run:  python benchmarks/ocr_models.py [--threads 2] [--repeat 5] [--no-cuda] [--compile]

CPU rows compare both backends on the same input (det 960 x 960, rec 48 x 320 at batch 1, 8,
32) and print torch/ort time ratios (>1 means torch is slower). CUDA rows (when a GPU is
present) give detection pages/s and recognition lines/s at batch 1, 8, 32 (and 128 for
rec). Inputs are random normal: these networks' cost does not depend on the pixels.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from imgtrans.models.ppocr_onnx import OnnxOcrBackend
from imgtrans.models.ppocr_torch import TorchOcrBackend

CPU_CASES = [("det", 1, 960, 960), ("rec", 1, 48, 320), ("rec", 8, 48, 320), ("rec", 32, 48, 320)]
CUDA_CASES = [("det", n, 960, 960) for n in (1, 8, 32)] + [
    ("rec", n, 48, 320) for n in (1, 8, 32, 128)
]


def best_ms(fn: Callable[[], object], repeat: int, sync: Callable[[], None]) -> float:
    """Fastest of ``repeat`` timed calls after two warm-ups, in ms (least disturbed by load)."""
    for _ in range(2):
        fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def _inputs(n: int, h: int, w: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, 3, h, w)).astype(np.float32)


def bench_cpu(threads: int, repeat: int) -> None:
    torch.set_num_threads(threads)
    tb = TorchOcrBackend(torch.device("cpu"))
    ob = OnnxOcrBackend(intra_op_threads=threads)
    print(f"CPU, {threads} threads (torch {torch.__version__})")
    print(f"{'model':<5} {'batch':>5} {'size':>9} {'torch ms':>9} {'ort ms':>8} {'torch/ort':>9}")
    for kind, n, h, w in CPU_CASES:
        x = _inputs(n, h, w)
        t_ms = best_ms(lambda k=kind, x=x: getattr(tb, k)(x), repeat, lambda: None)
        o_ms = best_ms(lambda k=kind, x=x: getattr(ob, k)(x), repeat, lambda: None)
        print(f"{kind:<5} {n:>5} {h:>4}x{w:<4} {t_ms:>9.1f} {o_ms:>8.1f} {t_ms / o_ms:>9.2f}")


def bench_cuda(repeat: int, compile_models: bool) -> None:
    dev = torch.device("cuda")
    tb = TorchOcrBackend(dev)
    models = {"det": tb.det_model, "rec": tb.rec_model}
    if compile_models:
        models = {k: torch.compile(m, dynamic=False) for k, m in models.items()}
    name = torch.cuda.get_device_name(dev)
    print(
        f"CUDA: {name} (torch {torch.__version__}, TF32 convs {torch.backends.cudnn.allow_tf32}"
        f", compiled {compile_models})"
    )
    print(f"{'model':<5} {'batch':>5} {'size':>9} {'ms/batch':>9} {'items/s':>9}")
    for kind, n, h, w in CUDA_CASES:
        x = torch.from_numpy(_inputs(n, h, w)).to(dev)
        model = models[kind]

        def run(model: Callable[[torch.Tensor], torch.Tensor] = model, x: torch.Tensor = x) -> None:
            with torch.inference_mode():
                model(x)

        ms = best_ms(run, repeat, torch.cuda.synchronize)
        unit = "pages/s" if kind == "det" else "lines/s"
        print(f"{kind:<5} {n:>5} {h:>4}x{w:<4} {ms:>9.2f} {n / ms * 1000:>9.0f} {unit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU comparison")
    parser.add_argument("--no-cuda", action="store_true", help="skip the CUDA rows")
    parser.add_argument("--compile", action="store_true", help="torch.compile the CUDA models")
    args = parser.parse_args()
    if not args.no_cpu:
        bench_cpu(args.threads, args.repeat)
    if not args.no_cuda and torch.cuda.is_available():
        bench_cuda(args.repeat, args.compile)
    elif not args.no_cuda:
        print("CUDA: no GPU visible, CUDA rows skipped")


if __name__ == "__main__":
    main()
