"""A class's depth slider in one worker: simulations of random depths of one network, with and
without the memo of drawn weights (core.drawn.DrawnLayers), side by side in one process.

    python bench/bench_drawn.py [--rounds 5] [--moves 40] [--mib 32] [--width 256] [--batch 512]

Each round draws ``--moves`` depths uniformly from 1–200 (a class moving the Depth slider of
/?preset=relu_he: ReLU, He normal) and times the worker's whole job for each, build_network +
simulate, once drawing every matrix (``fresh``) and once with one memo kept across the round's
moves (``memo``, ``--mib`` MiB, the worker's default 32), the two interleaved move by move
(fresh first on even moves). One BLAS thread, as in the workers. Printed per round: the CPU
seconds of each and their ratio; then min/median/max over the rounds, with the load average.
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

import numpy as np  # noqa: E402


def job(config: NetworkConfig, memo: DrawnLayers | None) -> float:
    start = time.process_time()
    simulate(config, build_network(config, memo))
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--mib", type=int, default=32)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--batch", type=int, default=512)
    args = parser.parse_args()
    base = dict(activation="relu", init="kaiming_normal", width=args.width,
                batch_size=args.batch)
    print(f"load average {os.getloadavg()}")
    fresh_totals, memo_totals, ratios = [], [], []
    with threadpool_limits(1):
        job(NetworkConfig(depth=20, **base), None)  # warm
        for round_ in range(args.rounds):
            depths = np.random.default_rng(round_).integers(1, 201, size=args.moves)
            memo = DrawnLayers(args.mib * 2**20)
            fresh = with_memo = 0.0
            for move, depth in enumerate(depths):
                config = NetworkConfig(depth=int(depth), **base)
                if move % 2 == 0:
                    fresh += job(config, None)
                    with_memo += job(config, memo)
                else:
                    with_memo += job(config, memo)
                    fresh += job(config, None)
            fresh_totals.append(fresh)
            memo_totals.append(with_memo)
            ratios.append(with_memo / fresh)
            print(f"round {round_}: {args.moves} moves, {int(depths.sum())} layers: fresh "
                  f"{fresh:.2f} s, memo {with_memo:.2f} s, memo/fresh {with_memo / fresh:.3f} "
                  f"(memo {memo.nbytes / 2**20:.0f} MiB, hits {memo.hits}, misses {memo.misses})")

    def spread(values):
        return f"{min(values):.3f}/{statistics.median(values):.3f}/{max(values):.3f}"

    print(f"CPU s per round min/median/max: fresh {spread(fresh_totals)}, "
          f"memo {spread(memo_totals)}; memo/fresh {spread(ratios)}")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
