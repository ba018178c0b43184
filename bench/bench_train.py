"""Benchmark of core.train against the same training in PyTorch CPU, in one process.

    python bench/bench_train.py [--repeats 5] [--threads 1 2] [--record-every 10]

For each size (depth × width × batch, tanh, Xavier normal, float32, SGD, circle data set of
500 points, 250 for training) and each thread count (numpy's BLAS limited with threadpoolctl,
torch with torch.set_num_threads) it times, interleaved repeat by repeat:
  - ours:  train(config, train_config, network, data) with every record (history, layer
           history, decision-function snapshots) every ``--record-every`` steps;
  - torch: a bare loop over the same batches: nn.Linear + tanh layers, a linear head,
           BCEWithLogitsLoss, torch.optim.SGD (no evaluation, no statistics);
and prints min / median / max of each (wall clock), the ratio torch/ours of the medians (≥ 1:
ours is faster), the same ratio of the process CPU times (steadier on a shared, loaded machine:
it does not count the time spent waiting for a core) and the load average before and after. torch is a benchmark-only extra: on these
machines `pip install /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl`.
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

from core import NetworkConfig, TrainConfig, build_network, make_dataset, train  # noqa: E402
from core.train_config import training_network_config  # noqa: E402

#: (depth, width, batch, steps): the issue's two goals.
SIZES = ((10, 64, 32, 1000), (20, 256, 128, 300))


def torch_loop(torch, config: NetworkConfig, network, data, train_config: TrainConfig):
    layers = []
    for index, (w, b) in enumerate(zip(network.weights, network.biases)):
        linear = torch.nn.Linear(w.shape[0], w.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T.copy()))
            linear.bias.zero_()
        layers.append(linear)
        if index < len(network.weights) - 1:
            layers.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*layers)
    x = torch.from_numpy(data.x_train.astype(np.float32))
    y = torch.from_numpy(data.y_train.astype(np.float32))
    rng = np.random.default_rng(0)
    per_epoch = x.shape[0] // train_config.batch_size
    batches = []
    while len(batches) < train_config.steps:
        order = torch.from_numpy(rng.permutation(x.shape[0]))
        for k in range(per_epoch):
            batches.append(order[k * train_config.batch_size:(k + 1) * train_config.batch_size])
    batches = batches[:train_config.steps]
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def run() -> None:
        optimizer = torch.optim.SGD(model.parameters(), lr=train_config.lr)
        for index in batches:
            xb, yb = x[index], y[index]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
    return run


def spread(times: list[float]) -> str:
    return (f"{min(times) * 1e3:8.1f} {statistics.median(times) * 1e3:8.1f} "
            f"{max(times) * 1e3:8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--record-every", type=int, default=10)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    from threadpoolctl import threadpool_limits

    load_before = os.getloadavg()
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'n/a'}, "
          f"{os.cpu_count()} cores, {args.repeats} interleaved repeats, "
          f"record_every {args.record_every}")
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(f"{'depth×width×batch×steps':>24} {'threads':>7} | {'ours ms min/med/max':>26} | "
          f"{'torch ms min/med/max':>26} | {'torch/ours':>10} {'cpu ratio':>9} "
          f"{'ours ms/step':>12}")
    for depth, width, batch, steps in SIZES:
        config = NetworkConfig(depth=depth, width=width, activation="tanh", init="xavier_normal")
        train_config = TrainConfig(dataset="circle", lr=0.1, batch_size=batch, steps=steps,
                                   record_every=args.record_every)
        data = make_dataset(train_config)
        network = build_network(training_network_config(config, train_config))
        for threads in args.threads:
            with threadpool_limits(limits=threads):
                if torch is not None:
                    torch.set_num_threads(threads)
                    torch_run = torch_loop(torch, config, network, data, train_config)
                    torch_run()  # warm-up
                train(config, train_config, network=network, data=data)  # warm-up
                ours_times, torch_times, ours_cpu, torch_cpu = [], [], [], []
                for _ in range(args.repeats):
                    start, cpu = time.perf_counter(), time.process_time()
                    train(config, train_config, network=network, data=data)
                    ours_times.append(time.perf_counter() - start)
                    ours_cpu.append(time.process_time() - cpu)
                    if torch is not None:
                        start, cpu = time.perf_counter(), time.process_time()
                        torch_run()
                        torch_times.append(time.perf_counter() - start)
                        torch_cpu.append(time.process_time() - cpu)
            ours = statistics.median(ours_times)
            ratio = f"{statistics.median(torch_times) / ours:10.2f}" if torch_times else "n/a"
            cpu_ratio = (f"{statistics.median(torch_cpu) / statistics.median(ours_cpu):9.2f}"
                         if torch_cpu else "n/a")
            torch_text = spread(torch_times) if torch_times else "n/a"
            print(f"{f'{depth}×{width}×{batch}×{steps}':>24} {threads:>7} | "
                  f"{spread(ours_times):>26} | {torch_text:>26} | {ratio:>10} {cpu_ratio:>9} "
                  f"{ours / steps * 1e3:12.3f}")
    load_after = os.getloadavg()
    print(f"load average after:  {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")


if __name__ == "__main__":
    main()
