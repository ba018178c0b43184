"""What the worker processes run, with what a process keeps between runs.

Each worker keeps the weight matrices it has drawn (``core.drawn.DrawnLayers``): a class moving
a depth slider asks for networks that share their first layers, and drawing a layer's Gaussian
matrix costs as much as one of its three matrix products. Under AppTest (no processes) the
memo lives in the server's process, bounded the same way.

Light on purpose, like ui.serving.workers: a worker imports this module, never Streamlit.
"""

from __future__ import annotations

import os

from core import NetworkConfig, SimulationResult, build_network, simulate
from core.drawn import DrawnLayers

DRAWN_MIB_ENV = "VARIANCE_LAB_DRAWN_MIB"
#: 128 layers of 256 × 256 float32: every depth up to 128 of a network at the default width
#: finds all its matrices, a deeper one its first 128 (≈ 87 % of the draws a slider over
#: depths 1–200 asks for). Per worker process, beside ≈ 130 MiB of a depth-200 backward pass.
DEFAULT_DRAWN_MIB = 32


def drawn_bytes(environ: dict[str, str] | None = None) -> int:
    """``VARIANCE_LAB_DRAWN_MIB`` MiB if it is a whole number ≥ 0 (0: no memo), else 32."""
    text = (os.environ if environ is None else environ).get(DRAWN_MIB_ENV, "").strip()
    mib = int(text) if text.isascii() and text.isdigit() else DEFAULT_DRAWN_MIB
    return mib * 2**20


DRAWN = DrawnLayers(drawn_bytes())


def simulate_drawn(config: NetworkConfig) -> SimulationResult:
    """``core.simulate(config)``, its weights taken from this process's memo where drawn
    before (the same arrays bit for bit)."""
    return simulate(config, build_network(config, DRAWN))
