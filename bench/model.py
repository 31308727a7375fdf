"""CPU benchmark of the model archs and backends: params, GFLOP, ms/frame, share of matmul peak.

Every ratio is measured in one run: the peak is the best GFLOP/s of a large fp32 matmul timed
just before the networks, on the same threads. Each network is timed in inference mode on torch
in both memory formats (contiguous = eager, channels_last) and on onnxruntime (the same weights
exported in memory, as `fairmot.load(..., backend="onnxruntime")` runs them) with its outputs
checked against torch's; the fastest backend is reported as chosen, with its speed-up over
torch eager.

    .venv/bin/python bench/model.py --archs lite --threads 1  # the README's numbers
    .venv/bin/python bench/model.py --archs lite,dla34_plain --sizes 1088x608,576x320
    .venv/bin/python bench/model.py --threads 1   # on a shared machine: see below

On a machine shared with other jobs, multi-threaded runs of many small ops lose far more to
descheduled threads (every op ends in a barrier) than one long matmul does, which skews the
ratio; --threads 1 compares like with like.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import fairmot  # noqa: F401  # first: its thread policy must be set before torch loads

# isort: split
import torch
from torch.utils.flop_counter import FlopCounterMode

from fairmot.backends import HEAD_ORDER, OnnxNetwork, onnx_bytes, onnxruntime_available
from fairmot.model import ARCHS, LoadedModel, ModelCard, build_model

# Large enough to be compute-bound on a CPU (2*n^3 = 55 GFLOP), small enough to repeat.
MATMUL_N = 3000


@dataclass
class Row:
    arch: str
    size: str
    params_m: float
    gflop: float
    ms: dict[str, float]  # per backend: torch eager (NCHW), torch NHWC, onnxruntime
    max_diff: float | None  # onnxruntime vs torch, every head

    @property
    def chosen(self) -> str:
        return min(self.ms, key=self.ms.__getitem__)

    def gflops(self, backend: str) -> float:
        return self.gflop / (self.ms[backend] / 1000)


def timed(fn: Callable[[], object], *, warmup: int, budget_s: float, min_runs: int) -> float:
    """Median seconds per call after warm-up, running until the budget or min_runs is reached."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < budget_s:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 50:
            break
    return statistics.median(times)


def matmul_peak_gflops(n: int = MATMUL_N) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    seconds = timed(lambda: torch.mm(a, b), warmup=1, budget_s=3.0, min_runs=3)
    return 2 * n**3 / seconds / 1e9


def bench_arch(arch: str, width: int, height: int, budget_s: float) -> Row:
    torch.manual_seed(0)
    card = ModelCard(arch=arch, input_w=width, input_h=height)
    model = build_model(card).eval()
    x = torch.rand(1, 3, height, width)
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        expected = model(x)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    ms = {}
    for name, fmt in (("torch", torch.contiguous_format), ("torch NHWC", torch.channels_last)):
        net = model.to(memory_format=fmt)
        inp = x.contiguous(memory_format=fmt)
        with torch.inference_mode():
            ms[name] = 1000 * timed(lambda: net(inp), warmup=2, budget_s=budget_s, min_runs=3)  # noqa: B023
    max_diff = None
    if onnxruntime_available():
        model = model.to(memory_format=torch.contiguous_format)
        network = OnnxNetwork(onnx_bytes(LoadedModel(model=model, card=card), width, height), card)
        feed = {"input": x.numpy()}
        got = network.session.run(None, feed)
        max_diff = max(
            float((torch.from_numpy(g) - expected[h]).abs().max())
            for g, h in zip(got, HEAD_ORDER, strict=True)
        )
        ms["onnxruntime"] = 1000 * timed(
            lambda: network.session.run(None, feed), warmup=2, budget_s=budget_s, min_runs=3
        )
    return Row(arch, f"{width}x{height}", params, counter.get_total_flops() / 1e9, ms, max_diff)


def parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for item in text.split(","):
        w, _, h = item.strip().partition("x")
        sizes.append((int(w), int(h)))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--archs", default=",".join(ARCHS), help=f"comma list of {', '.join(ARCHS)}"
    )
    parser.add_argument(
        "--sizes", default="576x320", help="comma list of WxH (e.g. 1088x608,576x320)"
    )
    parser.add_argument("--budget", type=float, default=3.0, help="seconds of timing per case")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    archs = [a.strip() for a in args.archs.split(",") if a.strip()]
    unknown = [a for a in archs if a not in ARCHS]
    if unknown:
        parser.error(f"unknown arch {', '.join(unknown)}: valid archs are {', '.join(ARCHS)}")

    peak = matmul_peak_gflops()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"fp32 matmul {MATMUL_N}x{MATMUL_N}: {peak:.1f} GFLOP/s (peak)"
    )
    header = (
        f"{'arch':<12} {'size':>9} {'params(M)':>9} {'GFLOP':>6} {'backend':>12} {'ms':>7} "
        f"{'GFLOP/s':>8} {'% peak':>7} {'vs eager':>8} {'max diff':>9}"
    )
    print(header)
    print("-" * len(header))
    for width, height in parse_sizes(args.sizes):
        for arch in archs:
            row = bench_arch(arch, width, height, args.budget)
            for backend, ms in row.ms.items():
                diff = (
                    f"{row.max_diff:.1e}"
                    if backend == "onnxruntime" and row.max_diff is not None
                    else ""
                )
                mark = " *" if backend == row.chosen else ""
                print(
                    f"{row.arch:<12} {row.size:>9} {row.params_m:>9.2f} {row.gflop:>6.2f} "
                    f"{backend:>12} {ms:>7.1f} {row.gflops(backend):>8.1f} "
                    f"{100 * row.gflops(backend) / peak:>6.0f}% {row.ms['torch'] / ms:>7.2f}x "
                    f"{diff:>9}{mark}",
                    flush=True,
                )
    print("* the fastest backend; max diff: onnxruntime vs torch over every head (limit 1e-4)")
    peak_after = matmul_peak_gflops()
    print(f"fp32 matmul again after the networks: {peak_after:.1f} GFLOP/s (machine noise check)")


if __name__ == "__main__":
    main()
