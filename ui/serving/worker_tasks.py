"""What the worker processes run, with what a process keeps between runs.

A class moving a depth slider asks for networks that share their first layers. Each worker
keeps the weight matrices it has drawn (``core.drawn.DrawnLayers``: drawing a layer's Gaussian
matrix costs as much as one of its three matrix products) and the forward pass of the last
network's first layers (``core.simulate.ForwardMemo``: one of the three products and the
forward statistics). Under AppTest (no processes) both live in the server's process, bounded
the same way.

Light on purpose, like ui.serving.workers: a worker imports this module, never Streamlit.
"""

from __future__ import annotations

from core import NetworkConfig, SimulationResult, build_network, simulate
from core.drawn import DrawnLayers
from core.simulate import ForwardMemo
from ui.serving.host import environ_whole_number

DRAWN_MIB_ENV = "VARIANCE_LAB_DRAWN_MIB"
FORWARD_MIB_ENV = "VARIANCE_LAB_FORWARD_MIB"
#: 128 layers of 256 × 256 float32: every depth up to 128 of a network at the default width
#: finds all its matrices, a deeper one its first 128 (≈ 87 % of the draws a slider over
#: depths 1–200 asks for). Per worker process, beside ≈ 130 MiB of a depth-200 backward pass.
DEFAULT_DRAWN_MIB = 32
#: 128 layers of the default network (one 512 × 256 float32 array a layer): the forward pass
#: of every depth up to 128, and of a deeper one's first 128 layers. Arrays a depth-200 pass
#: held anyway while it ran, now kept between runs.
DEFAULT_FORWARD_MIB = 64


def memo_bytes(name: str, default_mib: int, environ: dict[str, str] | None = None) -> int:
    """The environment variable ``name`` in MiB if it is a whole number ≥ 0 (0: no memo),
    else ``default_mib``."""
    mib = environ_whole_number(name, environ)
    return (default_mib if mib is None else mib) * 2**20


DRAWN = DrawnLayers(memo_bytes(DRAWN_MIB_ENV, DEFAULT_DRAWN_MIB))
FORWARD = ForwardMemo(memo_bytes(FORWARD_MIB_ENV, DEFAULT_FORWARD_MIB))


def simulate_drawn(config: NetworkConfig) -> SimulationResult:
    """``core.simulate(config)``, its weights and its first layers' forward pass taken from
    this process's memos where computed before (the same results bit for bit)."""
    return simulate(config, build_network(config, DRAWN), forward=FORWARD)
