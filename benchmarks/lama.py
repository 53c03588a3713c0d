"""Time the big-lama generator per crop: sizes 256/512/1024, batch 1/4/8, CPU and CUDA.

Uses RANDOM weights: speed does not depend on weight values, so no download is needed.
Prints a Markdown table (device, precision, size, batch, ms per batch, ms per crop).

    python benchmarks/lama.py                 # CPU, short: 256/512 at batch 1/4
    python benchmarks/lama.py --full          # CPU, all sizes and batches (slow on CPU)
    python benchmarks/lama.py --device cuda   # bf16 autocast vs fp32 (TF32), all sizes
    python benchmarks/lama.py --device cuda --compile
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from imgtrans.models.lama import LamaConfig, build_lama


def _time_one(
    model: torch.nn.Module, device: torch.device, size: int, batch: int, bf16: bool, repeats: int
) -> float:
    """Median seconds per forward of ``batch`` crops of ``size``², after one warm-up."""
    image = torch.rand(batch, 3, size, size, device=device)
    mask = (torch.rand(batch, 1, size, size, device=device) > 0.8).float()
    cuda = device.type == "cuda"
    times = []
    with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=bf16):
        for i in range(repeats + 1):
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            model(image, mask)
            if cuda:
                torch.cuda.synchronize()
            if i:  # the first run is the warm-up
                times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--full", action="store_true", help="all sizes and batches on CPU")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per cell")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--sizes", type=int, nargs="+", help="crop sizes (overrides defaults)")
    parser.add_argument("--batches", type=int, nargs="+", help="batch sizes (overrides)")
    args = parser.parse_args()

    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda asked for, but CUDA is not available")
    torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    cpu_short = device.type == "cpu" and not args.full
    sizes = args.sizes or ((256, 512) if cpu_short else (256, 512, 1024))
    batches = args.batches or ((1, 4) if cpu_short else (1, 4, 8))
    repeats = args.repeats or (1 if device.type == "cpu" else 10)
    precisions = [("bf16", True), ("fp32", False)] if device.type == "cuda" else [("fp32", False)]

    torch.manual_seed(0)
    model = build_lama(LamaConfig()).to(device)
    variants = [("eager", model)]
    if args.compile:
        variants.append(("compiled", torch.compile(model, dynamic=False)))
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU x{args.threads} threads"
    print(f"big-lama generator, RANDOM weights (timing only), {name}, torch {torch.__version__}")
    print(f"median of {repeats} run(s) after 1 warm-up")
    print("| device | mode | precision | size | batch | ms/batch | ms/crop |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for mode, net in variants:
        for label, bf16 in precisions:
            for size in sizes:
                for batch in batches:
                    sec = _time_one(net, device, size, batch, bf16, repeats)
                    print(
                        f"| {device.type} | {mode} | {label} | {size} | {batch} | "
                        f"{sec * 1e3:.1f} | {sec * 1e3 / batch:.1f} |",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
