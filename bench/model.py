"""CPU benchmark of the model archs: params, GFLOP, ms/frame and share of matmul peak.

Every ratio is measured in one run: the peak is the best GFLOP/s of a large fp32 matmul timed
just before the networks, on the same threads. Each network is timed in inference mode in both
memory formats (contiguous and channels_last); the faster one is reported as chosen.

    .venv/bin/python bench/model.py                       # quick: every arch at 576x320
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

import torch
from torch.utils.flop_counter import FlopCounterMode

from fairmot.model import ARCHS, ModelCard, build_model

# Large enough to be compute-bound on a CPU (2*n^3 = 55 GFLOP), small enough to repeat.
MATMUL_N = 3000


@dataclass
class Row:
    arch: str
    size: str
    params_m: float
    gflop: float
    ms_contiguous: float
    ms_channels_last: float

    @property
    def chosen(self) -> str:
        return "channels_last" if self.ms_channels_last < self.ms_contiguous else "contiguous"

    @property
    def ms(self) -> float:
        return min(self.ms_contiguous, self.ms_channels_last)

    def gflops(self) -> float:
        return self.gflop / (self.ms / 1000)


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
    model = build_model(ModelCard(arch=arch)).eval()
    x = torch.rand(1, 3, height, width)
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        model(x)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    ms = {}
    for fmt in (torch.contiguous_format, torch.channels_last):
        net = model.to(memory_format=fmt)
        inp = x.contiguous(memory_format=fmt)
        with torch.inference_mode():
            ms[fmt] = 1000 * timed(lambda: net(inp), warmup=2, budget_s=budget_s, min_runs=3)  # noqa: B023
    return Row(
        arch,
        f"{width}x{height}",
        params,
        counter.get_total_flops() / 1e9,
        ms[torch.contiguous_format],
        ms[torch.channels_last],
    )


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
    header = f"{'arch':<12} {'size':>9} {'params(M)':>9} {'GFLOP':>7} {'ms NCHW':>8} {'ms NHWC':>8} {'chosen':>13} {'GFLOP/s':>8} {'% peak':>7}"
    print(header)
    print("-" * len(header))
    for width, height in parse_sizes(args.sizes):
        for arch in archs:
            row = bench_arch(arch, width, height, args.budget)
            print(
                f"{row.arch:<12} {row.size:>9} {row.params_m:>9.2f} {row.gflop:>7.2f} "
                f"{row.ms_contiguous:>8.1f} {row.ms_channels_last:>8.1f} {row.chosen:>13} "
                f"{row.gflops():>8.1f} {100 * row.gflops() / peak:>6.0f}%",
                flush=True,
            )
    peak_after = matmul_peak_gflops()
    print(f"fp32 matmul again after the networks: {peak_after:.1f} GFLOP/s (machine noise check)")


if __name__ == "__main__":
    main()
