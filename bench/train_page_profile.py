#!/usr/bin/env python
"""Where a cold Train lesson's time and bytes go, in one process (one BLAS thread, as a worker).

For each lesson (default: all) and each of its set-ups, CPU time (best of --repeats, process
time: steadier than wall time on a shared machine):

    train        core.train as the page runs it (every record, every snapshot);
    records      what the records cost: train minus the same run recording only its first and
                 last step (evaluation of both splits and every layer's statistics);
    snapshots    what the decision-function snapshots cost: train minus the same run with 2;

then for the lesson: the six charts' build time and their JSON size as Streamlit sends them
(``plotly.io.to_json`` of ``figure.to_dict()``), and one drawing of the runs as they train
(the live decision maps and loss chart). Printed with the load average.

Usage (from the repo root):
    python bench/train_page_profile.py [init residual …] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))


def main(argv: list[str] | None = None) -> int:
    from threadpoolctl import threadpool_limits

    import numpy  # noqa: F401  (threadpoolctl limits only what is loaded)
    import plotly.io as pio

    from core import make_dataset, train
    from ui.frame.i18n import translate
    from ui.serving import train_live
    from ui.train.logic import TRAIN_PRESETS, TrainRun, build_setups, decision_frames, final_weights
    from ui.train import charts as train_charts
    from ui.train import watch as train_watch

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("lessons", nargs="*", default=list(TRAIN_PRESETS))
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    threadpool_limits(1)
    train_module = sys.modules["core.train"]
    tr = lambda key, **values: translate("en", key, **values)  # noqa: E731
    fit = train_charts.LAPTOP

    def cpu_ms(fn) -> float:
        best = float("inf")
        for _ in range(args.repeats):
            started = time.process_time()
            fn()
            best = min(best, time.process_time() - started)
        return 1000 * best

    def sent_kib(figure) -> float:
        return len(pio.to_json(figure.to_dict(), validate=False)) / 1024

    print(f"load average {os.getloadavg()}  ({os.cpu_count()} CPUs), CPU ms best of "
          f"{args.repeats}")
    for lesson in args.lessons:
        preset = TRAIN_PRESETS[lesson]
        setups = build_setups(preset.pair(), preset.setups, (), tr)
        totals = dict(train=0.0, records=0.0, snapshots=0.0)
        results = []
        for setup in setups:
            network, config = setup.config.network, setup.config.training
            full = cpu_ms(lambda: train(network, config))
            few = cpu_ms(lambda: train(network, config.replace(record_every=config.steps)))
            saved = train_module.MAX_SNAPSHOTS
            train_module.MAX_SNAPSHOTS = 2
            try:
                two = cpu_ms(lambda: train(network, config))
            finally:
                train_module.MAX_SNAPSHOTS = saved
            totals["train"] += full
            totals["records"] += max(0.0, full - few)
            totals["snapshots"] += max(0.0, full - two)
            results.append(train(network, config))
            print(f"  {lesson:14s} {setup.name[:44]:44s} train {full:6.0f} | records "
                  f"{full - few:5.0f} | snapshots {full - two:5.0f}")
        runs = [TrainRun(setup, result, make_dataset(setup.config.training))
                for setup, result in zip(setups, results)]
        frames = [f for f in (decision_frames(run) for run in runs) if f is not None]
        steps = max(setup.config.training.steps for setup in setups)
        builders = {
            "decision": lambda: train_charts.decision_animation(frames, tr, fit=fit),
            "loss": lambda: train_charts.loss_chart(runs, tr, fit, steps=steps),
            "gradients": lambda: train_charts.gradient_heatmaps(runs, tr, fit),
            "updates": lambda: train_charts.update_ratio_chart(runs, tr, fit),
            "activations": lambda: train_charts.activation_chart(runs, steps, tr, fit),
            "weights": lambda: train_charts.weight_histograms(
                [(r.name, r.colour, final_weights(r.result)) for r in runs], tr, fit=fit),
        }
        build = {name: cpu_ms(builder) for name, builder in builders.items()}
        size = {name: sent_kib(builder()) for name, builder in builders.items()}
        states = [("training", train_live.Partial.of_result(r)) for r in results]
        data = [run.data for run in runs]
        live = [train_watch.live_decision(setups, data, states, tr, fit, 0, 1),
                train_watch.live_loss(setups, states, tr, fit, steps, 0, 1)]
        live_ms = cpu_ms(lambda: [train_watch.live_decision(setups, data, states, tr, fit, 0, 1),
                                  train_watch.live_loss(setups, states, tr, fit, steps, 0, 1)])
        print(f"{lesson}: {len(setups)} set-ups, train {totals['train']:.0f} ms CPU (records "
              f"{totals['records']:.0f}, snapshots {totals['snapshots']:.0f}); charts built in "
              f"{sum(build.values()):.0f} ms, {sum(size.values()):.0f} KiB ("
              + ", ".join(f"{name} {size[name]:.0f}" for name in builders)
              + f"); one live drawing {live_ms:.0f} ms, "
              f"{sum(sent_kib(f) for f in live if f is not None):.0f} KiB")
    print(f"load average {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
