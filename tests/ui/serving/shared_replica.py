"""A replica without Streamlit, for the tests of ui.serving.shared_results across processes: the same
store (ui.serving.redis_store.RedisStore) and results level (SharedComputation over core.simulate) as
the app, in a plain Python process.

    python -m tests.ui.serving.shared_replica URL OUT GO [--configs N | --until STOP] [--pause S]

Waits for the file GO (so that two replicas start together), then asks for the simulations of
``config(0)``, ``config(1)``, … (N of them, or until the file STOP exists), appending one JSON
line per event to OUT: {"computed": key} each time this process computes one, {"i", "key",
"digest"} for each result it got, {"i", "error"} for each exception a page would have shown.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from core import NetworkConfig, encode_query, simulate
from ui.serving.redis_store import RedisStore
from ui.serving.shared_results import SharedComputation


def config(i: int) -> NetworkConfig:
    return NetworkConfig(depth=2 + i % 7, width=32, batch_size=64, seed=i)


def digest(result) -> list[float]:
    """What two replicas must agree on: the loss and a sum over every statistic."""
    return [float(result.loss), float(np.nansum(result.layer_stats.to_numpy()))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("out", type=Path)
    p.add_argument("go", type=Path)
    p.add_argument("--configs", type=int)
    p.add_argument("--until", type=Path)
    p.add_argument("--pause", type=float, default=0.2,
                   help="seconds each computation takes on top of the simulation")
    args = p.parse_args(argv)
    shared_store = RedisStore(args.url, retry_after=0.2, max_retry_after=1.0)
    computation = SharedComputation("simulation", encode_query,
                                    shared_store=lambda: shared_store)
    with args.out.open("a", buffering=1) as out:
        def compute(cfg: NetworkConfig):
            out.write(json.dumps({"computed": computation.key(cfg)}) + "\n")
            time.sleep(args.pause)  # long enough for the other replica to find it computing
            return simulate(cfg)

        while not args.go.exists():
            time.sleep(0.01)
        i = 0
        while (args.configs is not None and i < args.configs) or \
                (args.until is not None and not args.until.exists()):
            cfg = config(i)
            try:
                result = computation.through(cfg, compute=lambda cfg=cfg: compute(cfg))
                out.write(json.dumps({"i": i, "key": computation.key(cfg),
                                      "digest": digest(result)}) + "\n")
            except Exception as error:  # what a student would have seen
                out.write(json.dumps({"i": i, "error": repr(error)}) + "\n")
            i += 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
