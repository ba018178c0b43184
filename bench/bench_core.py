"""Benchmark of core.simulate against PyTorch CPU and against bare np.matmul, in one process.

    python bench/bench_core.py [--repeats 7]

For each size (depth × width × batch, tanh, Xavier normal, float32) it prints the median time of
  - ours:   simulate(config, network) — forward, backward and every statistic and histogram,
            on a network built beforehand (as the torch run gets its weights for free);
  - init:   build_network(config), drawing the weights, for reference;
  - torch:  the same network's forward + backward (autograd, loss Σ r⊙out) when torch imports;
  - matmul: the same matrix products alone (L forward, L weight gradients, L − 1 input
            gradients) with np.matmul into preallocated outputs — the limit NumPy can reach;
and the ratios torch/ours (≥ 1: ours is faster) and matmul/ours (1 = no overhead at all).
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

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import NetworkConfig, simulate  # noqa: E402
from core.simulate import build_network  # noqa: E402

SIZES = ((10, 256, 512), (20, 256, 512), (50, 512, 1024))


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up: caches, allocator, BLAS threads
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare_matmuls(config: NetworkConfig, network) -> callable:
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


def torch_run(config: NetworkConfig, network):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(os.cpu_count() or 1)
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
    return run, torch.__version__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"numpy {np.__version__}, {os.cpu_count()} cores, repeats {args.repeats} (median)")
    header = (f"{'depth×width×batch':>18} {'ours ms':>9} {'init ms':>8} {'torch ms':>9} "
              f"{'matmul ms':>10} {'torch/ours':>11} {'matmul/ours':>12}")
    print(header)
    for depth, width, batch in SIZES:
        config = NetworkConfig(depth=depth, width=width, batch_size=batch, activation="tanh",
                               init="xavier_normal")
        network = build_network(config)
        ours = median_time(lambda: simulate(config, network), args.repeats)
        init = median_time(lambda: build_network(config), args.repeats)
        matmul = median_time(bare_matmuls(config, network), args.repeats)
        torch_bits = torch_run(config, network)
        if torch_bits is None:
            torch_ms, torch_ratio = "n/a", "n/a"
        else:
            torch_time = median_time(torch_bits[0], args.repeats)
            torch_ms, torch_ratio = f"{torch_time * 1e3:9.1f}", f"{torch_time / ours:11.2f}"
        print(f"{f'{depth}×{width}×{batch}':>18} {ours * 1e3:9.1f} {init * 1e3:8.1f} "
              f"{torch_ms:>9} {matmul * 1e3:10.1f} {torch_ratio:>11} {matmul / ours:12.2f}")


if __name__ == "__main__":
    main()
