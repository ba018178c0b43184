"""Benchmark of core.simulate against the bare matrix products of the same shapes, against a
previous version of core (side by side, in the same process) and, when installed, PyTorch CPU.

    python bench/bench_core.py [--repeats 15] [--threads 1 2] [--against 911eb04]
                               [--sizes 20x256x512 50x512x1024] [--activation tanh]

For each size (depth × width × batch; Xavier normal, float32) and thread count:
  - ours:   simulate(config, network) — forward, backward and every statistic and histogram,
            on a network built beforehand (torch's weights are made outside its timer too);
  - ref:    the same call into ``core`` as it was at git revision ``--against``, extracted with
            ``git archive`` into a temporary package and imported beside today's (so the two
            are timed in the same process, round by round: a paired comparison);
  - matmul: the same matrix products alone (L forward, L weight gradients, L − 1 input
            gradients) with np.matmul into preallocated outputs — the limit NumPy can reach;
  - torch:  the same network's forward + backward (autograd, loss Σ r⊙out), if torch imports;
  - init:   build_network(config), drawing the weights, reported apart (not in "ours").

Printed per row: min/median/max ms of each contender; matmul/ours, the bare products' time over
ours (1 = no overhead at all; the goal of issue 18 is ≥ 0.8 on small shapes, ≥ 0.9 at
50×512×1024), as the ratio of the medians and as min/median/max of the per-round ratios (each
round times every contender once, so a round's ratio is paired); the same for matmul/ref and
for ref/ours (the speed-up, > 1: ours is faster); the load average before and after the row.
With one thread the CPU-time medians follow (one core's work, steadier under load).

Like with like, measured fairly:
  - the same thread count for everyone: NumPy's BLAS through threadpoolctl and torch through
    torch.set_num_threads, per row (the served app runs BLAS at one thread: ui/serving.py);
  - every contender warmed (3 runs) before timing, then the runs interleaved, the order rotated
    each round, so that none is timed right after a long stretch of another.
torch is a benchmark-only extra: on these machines
`pip install /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl`.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import NetworkConfig, simulate  # noqa: E402
from core.simulate import build_network  # noqa: E402

#: depth × width × batch; 20×256×512 is the app's default width and batch at depth 20.
SIZES = ((10, 256, 512), (20, 256, 512), (20, 512, 256), (50, 512, 1024))
WARMUP = 3
REFERENCE = "911eb04"


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def reference_core(revision: str, into: Path):
    """``core`` as it was at ``revision``, imported as the package ``core_<revision>``; None
    (with a message) when git or the revision is not there."""
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", revision,
                                  "core"], check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        message = getattr(error, "stderr", b"") or str(error).encode()
        print(f"reference {revision!r} not available: {message.decode().strip()}")
        return None
    name = "core_" + "".join(c if c.isalnum() else "_" for c in revision)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    shutil.move(into / "core", into / name)
    sys.path.insert(0, str(into))
    return importlib.import_module(name)


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


def torch_run(config: NetworkConfig, network, activation: str) -> Callable[[], None] | None:
    try:
        import torch
    except ImportError:
        return None
    weights = [torch.from_numpy(w.T.copy()).requires_grad_(True) for w in network.weights]
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(config.batch_size, config.layer_widths[0], generator=generator)
    r = torch.randn(config.batch_size, config.layer_widths[-1], generator=generator)
    phi = {"tanh": torch.tanh, "relu": torch.relu}[activation]

    def run() -> None:
        h = x
        for w in weights:
            h = phi(torch.nn.functional.linear(h, w))
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


def spread(values: list, scale: float = 1e3, digits: int = 1) -> str:
    return "/".join(f"{v * scale:.{digits}f}"
                    for v in (min(values), statistics.median(values), max(values)))


def ratio(times: dict[str, list], top: str, bottom: str) -> str:
    """Ratio of the medians, then min/median/max of the per-round (paired) ratios."""
    if top not in times or bottom not in times:
        return "n/a"
    paired = [a / b for a, b in zip(times[top], times[bottom])]
    medians = statistics.median(times[top]) / statistics.median(times[bottom])
    return f"{medians:.2f} ({spread(paired, 1, 2)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--against", default=REFERENCE,
                        help="git revision of the reference core ('' for none)")
    parser.add_argument("--sizes", nargs="+", default=None, metavar="DEPTHxWIDTHxBATCH")
    parser.add_argument("--activation", default="tanh", choices=("tanh", "relu"))
    args = parser.parse_args()
    sizes = (SIZES if args.sizes is None
             else [tuple(int(v) for v in size.lower().split("x")) for size in args.sizes])
    init = "xavier_normal" if args.activation == "tanh" else "kaiming_normal"
    try:
        import torch
        torch_version = torch.__version__
    except ImportError:
        torch, torch_version = None, "not installed"
    with tempfile.TemporaryDirectory() as folder:
        reference = reference_core(args.against, Path(folder)) if args.against else None
        print(f"numpy {np.__version__}, torch {torch_version}, {os.cpu_count()} cores, "
              f"{args.activation} {init} float32, reference core at "
              f"{args.against if reference else 'none'}; repeats {args.repeats} interleaved "
              f"after {WARMUP} warm-up runs. ms as min/median/max; ratios as median-ratio "
              f"(per-round min/median/max)")
        for threads in args.threads:
            with threadpool_limits(limits=threads):
                if torch is not None:
                    torch.set_num_threads(threads)
                for depth, width, batch in sizes:
                    run_size(threads, depth, width, batch, args, init, reference, torch)


def run_size(threads: int, depth: int, width: int, batch: int, args, init: str, reference,
             torch) -> None:
    fields = dict(depth=depth, width=width, batch_size=batch, activation=args.activation,
                  init=init)
    config = NetworkConfig(**fields)
    network = build_network(config)
    contenders = {"ours": lambda: simulate(config, network),
                  "matmul": bare_matmuls(config, network),
                  "init": lambda: build_network(config)}
    if reference is not None:
        ref_config = reference.NetworkConfig(**fields)
        ref_network = reference.build_network(ref_config)
        contenders["ref"] = lambda: reference.simulate(ref_config, ref_network)
    torch_fn = torch_run(config, network, args.activation)
    if torch_fn is not None:
        contenders["torch"] = torch_fn
    before = load()
    times, cpu = interleaved(contenders, args.repeats)
    after = load()
    print(f"\nthreads {threads}, depth×width×batch {depth}×{width}×{batch}, "
          f"load {before} → {after}")
    for name in ("ours", "ref", "matmul", "torch", "init"):
        if name in times:
            line = f"  {name:<7} wall {spread(times[name]):>20} ms"
            if threads == 1:
                line += f"   CPU median {statistics.median(cpu[name]) * 1e3:8.1f} ms"
            print(line)
    print(f"  matmul/ours {ratio(times, 'matmul', 'ours')}   "
          f"matmul/ref {ratio(times, 'matmul', 'ref')}   "
          f"speed-up ref/ours {ratio(times, 'ref', 'ours')}   "
          f"torch/ours {ratio(times, 'torch', 'ours')}")
    if threads == 1:
        print(f"  CPU: matmul/ours {ratio(cpu, 'matmul', 'ours')}   "
              f"matmul/ref {ratio(cpu, 'matmul', 'ref')}   "
              f"speed-up ref/ours {ratio(cpu, 'ref', 'ours')}", flush=True)


if __name__ == "__main__":
    main()
