"""A class's depth slider in one worker: simulations of random depths of one network, with and
without what a worker keeps between runs, side by side in one process.

    python bench/bench_drawn.py [--rounds 5] [--moves 40] [--mib 32] [--forward-mib 64]
                                [--width 256] [--batch 512]

Each round draws ``--moves`` depths uniformly from 1–200 (a class moving the Depth slider of
/?preset=relu_he: ReLU, He normal) and times the worker's whole job for each, build_network +
simulate, three ways: drawing every matrix and pushing every layer through (``fresh``); with
the memo of drawn weights kept across the round's moves (``drawn``: core.drawn.DrawnLayers,
``--mib`` MiB, the worker's default 32); with it and the forward memo (``forward``:
core.simulate.ForwardMemo, ``--forward-mib``, default 64). Interleaved move by move, the order
rotated each move. One BLAS thread, as in the workers. Printed per round: the CPU seconds of
each and the ratios to fresh; then min/median/max over the rounds, with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from threadpoolctl import threadpool_limits  # noqa: E402

from core import NetworkConfig, build_network, simulate  # noqa: E402
from core.drawn import DrawnLayers  # noqa: E402
from core.simulate import ForwardMemo  # noqa: E402

import numpy as np  # noqa: E402


def job(config: NetworkConfig, drawn: DrawnLayers | None,
        forward: ForwardMemo | None) -> float:
    start = time.process_time()
    simulate(config, build_network(config, drawn), forward=forward)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--mib", type=int, default=32)
    parser.add_argument("--forward-mib", type=int, default=64)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch", type=int, default=512)
    args = parser.parse_args()
    base = dict(activation="relu", init="kaiming_normal", width=args.width,
                batch_size=args.batch)
    names = ("fresh", "drawn", "forward")
    print(f"load average {os.getloadavg()}")
    totals = {name: [] for name in names}
    ratios = {name: [] for name in names[1:]}
    with threadpool_limits(1):
        job(NetworkConfig(depth=20, **base), None, None)  # warm
        for round_ in range(args.rounds):
            depths = np.random.default_rng(round_).integers(1, 201, size=args.moves)
            drawn = {"drawn": DrawnLayers(args.mib * 2**20),
                     "forward": DrawnLayers(args.mib * 2**20)}
            forward = ForwardMemo(args.forward_mib * 2**20)
            spent = dict.fromkeys(names, 0.0)
            for move, depth in enumerate(depths):
                config = NetworkConfig(depth=int(depth), **base)
                for k in range(3):
                    name = names[(move + k) % 3]
                    spent[name] += job(config, drawn.get(name),
                                       forward if name == "forward" else None)
            for name in names:
                totals[name].append(spent[name])
            for name in names[1:]:
                ratios[name].append(spent[name] / spent["fresh"])
            print(f"round {round_}: {args.moves} moves, {int(depths.sum())} layers: "
                  + ", ".join(f"{n} {spent[n]:.2f} s" for n in names)
                  + f"; drawn/fresh {spent['drawn'] / spent['fresh']:.3f}, forward/fresh "
                  f"{spent['forward'] / spent['fresh']:.3f} (forward memo: layers found "
                  f"{forward.hits}, pushed through {forward.misses})")

    def spread(values):
        return f"{min(values):.3f}/{statistics.median(values):.3f}/{max(values):.3f}"

    print("CPU s per round min/median/max: " + ", ".join(f"{n} {spread(totals[n])}"
                                                          for n in names))
    print("ratios to fresh min/median/max: " + ", ".join(f"{n} {spread(ratios[n])}"
                                                         for n in names[1:]))
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
