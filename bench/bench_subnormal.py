"""What subnormal floats cost here, and what flushing them would change.

    python bench/bench_subnormal.py [--repeats 7]

Prints, with one BLAS thread, min/median/max of the process's CPU milliseconds:
  1. a float32 GEMM (64 × 2048 by 2048 × 2048) on normal inputs, on subnormal inputs, and on
     subnormal inputs with flush-to-zero + denormals-are-zero set in this thread's MXCSR
     (glibc x86_64 fegetenv/fesetenv through ctypes);
  2. an element-wise tanh over the same batch, normal and subnormal;
  3. the vanishing lessons against their healthy counterparts, whole runs (weights drawn):
     tanh N(0, 0.01²) depth 50 against tanh Xavier depth 50, and the issue's 2048-wide net
     with init_gain 5.96e-08 (depth 19, past the served memory budget, built unrefused)
     against init_gain 1, each with the layer where subnormals start;
  4. whether MXCSR flushing is deterministic: the zeros in one product whose terms are
     subnormal, with one and with two BLAS threads (OpenBLAS's worker threads do not inherit
     the caller's MXCSR once they exist; threads created while it is set do inherit it, so
     the outcome would even depend on when the pool started).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import platform
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

from budget_configs import load, unbudgeted_config  # noqa: E402

from core import simulate  # noqa: E402

_FTZ_DAZ = 0x8040


class _Fenv(ctypes.Structure):
    """glibc x86_64 fenv_t: the x87 environment (28 bytes), then MXCSR."""
    _fields_ = [("x87", ctypes.c_uint16 * 14), ("mxcsr", ctypes.c_uint32)]


@contextmanager
def flush_to_zero():
    """FTZ + DAZ in this thread's MXCSR for the block (x86_64 glibc only)."""
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    saved = _Fenv()
    libm.fegetenv(ctypes.byref(saved))
    flushing = _Fenv()
    ctypes.memmove(ctypes.byref(flushing), ctypes.byref(saved), ctypes.sizeof(_Fenv))
    flushing.mxcsr |= _FTZ_DAZ
    libm.fesetenv(ctypes.byref(flushing))
    try:
        yield
    finally:
        libm.fesetenv(ctypes.byref(saved))


def cpu_ms(fn, repeats: int) -> list[float]:
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1e3)
    return times


def fmt(times: list[float]) -> str:
    return f"{min(times):8.1f} {statistics.median(times):8.1f} {max(times):8.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}; numpy {np.__version__}; "
          f"repeats {args.repeats}; {load()}")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2048), dtype=np.float32)
    w = rng.standard_normal((2048, 2048), dtype=np.float32) * np.float32(0.02)
    sub = x * np.float32(1e-39)
    assert np.count_nonzero((sub != 0) & (np.abs(sub) < np.finfo(np.float32).tiny)) > 0
    print(f"{'CPU ms, 1 BLAS thread':<52} {'min':>8} {'median':>8} {'max':>8}")
    with threadpool_limits(1):
        print(f"{'GEMM 64×2048·2048×2048, normal inputs':<52} {fmt(cpu_ms(lambda: x @ w, args.repeats))}")
        print(f"{'GEMM, subnormal inputs':<52} {fmt(cpu_ms(lambda: sub @ w, args.repeats))}")
        with flush_to_zero():
            print(f"{'GEMM, subnormal inputs, FTZ+DAZ':<52} {fmt(cpu_ms(lambda: sub @ w, args.repeats))}")
        big = rng.standard_normal((1024, 2048), dtype=np.float32)
        big_sub = big * np.float32(1e-39)
        print(f"{'tanh 1024×2048, normal':<52} {fmt(cpu_ms(lambda: np.tanh(big), args.repeats))}")
        print(f"{'tanh 1024×2048, subnormal':<52} "
              f"{fmt(cpu_ms(lambda: np.tanh(big_sub), args.repeats))}")
        print(f"{'1 − a·a 1024×2048, subnormal':<52} "
              f"{fmt(cpu_ms(lambda: 1 - big_sub * big_sub, args.repeats))}")
        pairs = [("depth=50&activation=tanh&init=normal&init_std=0.01",
                  "depth=50&activation=tanh"),
                 ("depth=19&width=2048&batch_size=64&init_gain=5.96e-08",
                  "depth=19&width=2048&batch_size=64")]
        for vanishing, healthy in pairs:
            for query in (vanishing, healthy):
                config = unbudgeted_config(query)
                result = simulate(config)
                times = cpu_ms(lambda: simulate(config), max(3, args.repeats // 2))
                print(f"{query:<52} {fmt(times)}  subnormal from layer "
                      f"{result.first_subnormal_layer} (forward), "
                      f"{result.first_subnormal_grad_layer} (backward)")
        with flush_to_zero():
            config = unbudgeted_config(pairs[0][0])
            times = cpu_ms(lambda: simulate(config), max(3, args.repeats // 2))
            print(f"{pairs[0][0] + ', FTZ+DAZ':<52} {fmt(times)}")
    # Normal inputs whose products are subnormal (1e-20 · 1e-20), multiplied under FTZ+DAZ with
    # one and with two BLAS threads; compared after the flags are restored (under DAZ a
    # subnormal compares equal to zero).
    tiny_x = x * np.float32(1e-20)
    tiny_w = rng.standard_normal((2048, 2048), dtype=np.float32) * np.float32(1e-20)
    with threadpool_limits(2):
        tiny_x @ tiny_w  # the worker threads exist before any flag is set, as in a server
    products = {}
    for threads in (1, 2):
        with threadpool_limits(threads), flush_to_zero():
            products[threads] = tiny_x @ tiny_w
    nonzero = {t: int(np.count_nonzero(p)) for t, p in products.items()}
    same = np.array_equal(products[1], products[2])
    print(f"FTZ+DAZ determinism: non-zero entries of one product with subnormal terms: "
          f"1 thread {nonzero[1]}, 2 threads {nonzero[2]} of {products[1].size} "
          f"({'identical' if same else 'DIFFERENT: the flush depends on the thread count'})")
    print(load())


if __name__ == "__main__":
    main()
