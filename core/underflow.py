"""Where a vanishing signal leaves the normal floating-point range.

Below the dtype's smallest normal number (float32: 2⁻¹²⁶ ≈ 1.18e-38, float64: 2⁻¹⁰²² ≈
2.2e-308) values are *subnormal*: they keep fewer significant bits, and on many Intel CPUs every
operation on them takes a slow microcode path (a matrix product on subnormal float32 has been
measured ~160× slower there). Variance Lab keeps them, as NumPy and PyTorch on CPU do by
default, and reports where they start, so a page can say "from layer k the activations are
subnormal: their digits are running out before they reach zero".

Why keep rather than flush to zero (measured on the reference machine, bench/bench_subnormal.py):

- on its AMD EPYC CPU subnormals cost nothing measurable (a float32 GEMM on subnormal inputs
  runs at the normal speed; the vanishing lessons run no slower than healthy ones);
- setting flush-to-zero / denormals-are-zero in the calling thread's MXCSR does not reach
  OpenBLAS's worker threads, so with two BLAS threads part of each product is flushed and part
  is not: the results would depend on the number of threads;
- flushing explicitly with NumPy costs passes over every array of every run, for no gain here.

The rule (no extra pass over the batch): the histogram samples (the first 4096 entries of each
layer's pre-activation, activation and gradients, copied exactly) are searched for entries
with 0 < |x| < smallest normal. The first forward layer with one, and the first layer the
backward pass reaches with one, are reported (SimulationResult.first_subnormal_layer and
first_subnormal_grad_layer). A sample, not every entry: an isolated subnormal entry elsewhere
in the batch can go unreported; a vanishing layer, whose typical entry is subnormal, cannot.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

#: The sampled quantities searched forward and backward (core.simulate.HISTOGRAM_QUANTITIES).
FORWARD_QUANTITIES = ("preact", "act")
BACKWARD_QUANTITIES = ("grad_out", "grad_preact")


def smallest_normal(dtype: str) -> float:
    """The dtype's smallest positive normal number (np.finfo(dtype).smallest_normal)."""
    return float(np.finfo(np.dtype(dtype)).smallest_normal)


def subnormal_rows(samples: np.ndarray, dtype: str) -> np.ndarray:
    """Row indices (layers) of ``samples`` holding an entry with 0 < |x| < smallest normal
    (NaN entries, meaning absent, are ignored)."""
    magnitude = np.abs(samples)
    with np.errstate(invalid="ignore"):
        hit = (magnitude > 0) & (magnitude < smallest_normal(dtype))
    return np.flatnonzero(hit.any(axis=1))


def first_subnormal_layers(samples: Mapping[str, np.ndarray], dtype: str
                           ) -> tuple[int | None, int | None]:
    """(forward, backward): the first layer (row ≥ 1) whose sampled pre-activations or
    activations hold a subnormal entry, and the highest layer whose sampled gradients do (the
    backward pass meets it first). None where there is none."""
    forward = [rows[rows >= 1] for q in FORWARD_QUANTITIES
               for rows in (subnormal_rows(samples[q], dtype),)]
    backward = [subnormal_rows(samples[q], dtype) for q in BACKWARD_QUANTITIES]
    first = min((int(r[0]) for r in forward if len(r)), default=None)
    last = max((int(r[-1]) for r in backward if len(r)), default=None)
    return first, last
