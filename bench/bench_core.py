"""Benchmark of core.simulate against PyTorch CPU and against bare np.matmul, in one process.

    python bench/bench_core.py [--repeats 15] [--threads 1 2]

For each size (depth × width × batch, tanh, Xavier normal, float32) and thread count:
  - ours:   simulate(config, network) — forward, backward and every statistic and histogram,
            on a network built beforehand (torch's weights are made outside its timer too);
  - torch:  the same network's forward + backward (autograd, loss Σ r⊙out), torch 2.x CPU;
  - matmul: the same matrix products alone (L forward, L weight gradients, L − 1 input
            gradients) with np.matmul into preallocated outputs — the limit NumPy can reach;
  - init:   build_network(config), drawing the weights, reported separately (not in "ours");
with min / median / max over ``repeats`` and the ratios of the medians torch/ours (≥ 1: ours
is faster) and matmul/ours (1 = no overhead at all).

Like with like, measured fairly:
  - the same thread count for everyone: NumPy's BLAS through threadpoolctl and torch through
    torch.set_num_threads (and threadpoolctl for its OpenMP), per row;
  - every contender warmed (3 runs) before timing, then the runs interleaved — repeat r times
    ours, torch, matmul, init in an order rotated each round — so that no contender is timed
    right after a long stretch of another (torch timed straight after NumPy at two threads
    was slowed from 8 to 19 ms: the two thread pools contend);
  - the load average is printed before and after each row: on a shared machine, repeat; with
    one thread the CPU-time medians are printed too (one core's work, steady under load).
torch is a benchmark-only extra: on these machines
`pip install /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import NetworkConfig, simulate  # noqa: E402
from core.simulate import build_network  # noqa: E402

SIZES = ((10, 256, 512), (20, 256, 512), (50, 512, 1024))
WARMUP = 3


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def bare_matmuls(config: NetworkConfig, network) -> Callable[[], None]:
    batch, widths = config.batch_size, config.layer_widths
    rng = np.random.default_rng(0)
    acts = [rng.standard_normal((batch, n), dtype=np.float32) for n in widths]
    outs = [np.empty((batch, n), dtype=np.float32) for n in widths]
    grads = [np.empty_like(w) for w in network.weights]

    def run() -> None:
        for layer, w in enumerate(network.weights):
            np.matmul(acts[layer], w, out=outs[layer + 1])
        for layer in range(len(network.weights) - 1, -1, -1):
            np.matmul(acts[layer].T, outs[layer + 1], out=grads[layer])
            if layer > 0:
                np.matmul(outs[layer + 1], network.weights[layer].T, out=outs[layer])
    return run


def torch_run(config: NetworkConfig, network) -> Callable[[], None] | None:
    try:
        import torch
    except ImportError:
        return None
    weights = [torch.from_numpy(w.T.copy()).requires_grad_(True) for w in network.weights]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(config.batch_size, config.layer_widths[0], generator=generator)
    r = torch.randn(config.batch_size, config.layer_widths[-1], generator=generator)

    def run() -> None:
        h = x
        for w in weights:
            h = torch.tanh(torch.nn.functional.linear(h, w))
        loss = (h * r).sum()
        for w in weights:
            w.grad = None
        loss.backward()
    return run


def interleaved(contenders: dict[str, Callable[[], None]], repeats: int
                ) -> tuple[dict[str, list], dict[str, list]]:
    """Warm every contender, then time them in turn, the order rotated each round: wall
    seconds and the process's CPU seconds of each run."""
    for fn in contenders.values():
        for _ in range(WARMUP):
            fn()
    names = list(contenders)
    times: dict[str, list] = {name: [] for name in names}
    cpu: dict[str, list] = {name: [] for name in names}
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            start, start_cpu = time.perf_counter(), time.process_time()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    return times, cpu


def fmt(times: list) -> str:
    return (f"{min(times) * 1e3:.1f}/{statistics.median(times) * 1e3:.1f}/"
            f"{max(times) * 1e3:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch, torch_version = None, "not installed"
    print(f"numpy {np.__version__}, torch {torch_version}, {os.cpu_count()} cores, "
          f"repeats {args.repeats} interleaved after {WARMUP} warm-up runs; ms as min/median/max")
    print(f"{'threads':>7} {'depth×width×batch':>17} {'ours':>17} {'torch':>17} "
          f"{'matmul':>17} {'init':>17} {'torch/ours':>10} {'matmul/ours':>11}  load before → after")
    for threads in args.threads:
        with threadpool_limits(limits=threads):
            if torch is not None:
                torch.set_num_threads(threads)
            for depth, width, batch in SIZES:
                config = NetworkConfig(depth=depth, width=width, batch_size=batch,
                                       activation="tanh", init="xavier_normal")
                network = build_network(config)
                contenders = {"ours": lambda: simulate(config, network),
                              "matmul": bare_matmuls(config, network),
                              "init": lambda: build_network(config)}
                torch_fn = torch_run(config, network)
                if torch_fn is not None:
                    contenders["torch"] = torch_fn
                before = load()
                times, cpu = interleaved(contenders, args.repeats)
                ours = statistics.median(times["ours"])
                matmul = statistics.median(times["matmul"])
                torch_cell = fmt(times["torch"]) if "torch" in times else "n/a"
                torch_ratio = (f"{statistics.median(times['torch']) / ours:.2f}"
                               if "torch" in times else "n/a")
                print(f"{threads:>7} {f'{depth}×{width}×{batch}':>17} {fmt(times['ours']):>17} "
                      f"{torch_cell:>17} {fmt(times['matmul']):>17} {fmt(times['init']):>17} "
                      f"{torch_ratio:>10} {matmul / ours:>11.2f}  {before} → {load()}",
                      flush=True)
                if threads == 1:
                    # One thread: CPU time is the work itself, steady when others load the cores.
                    med = {name: statistics.median(values) for name, values in cpu.items()}
                    torch_cpu = (f"{med['torch'] * 1e3:.1f}", f"{med['torch'] / med['ours']:.2f}"
                                 ) if "torch" in med else ("n/a", "n/a")
                    print(f"{'':>7} {'CPU medians':>17} {med['ours'] * 1e3:>17.1f} "
                          f"{torch_cpu[0]:>17} {med['matmul'] * 1e3:>17.1f} "
                          f"{med['init'] * 1e3:>17.1f} {torch_cpu[1]:>10} "
                          f"{med['matmul'] / med['ours']:>11.2f}", flush=True)


if __name__ == "__main__":
    main()
