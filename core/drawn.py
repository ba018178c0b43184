"""What a worker keeps between simulations: the weight matrices a seed has drawn
(``DrawnLayers``), and the forward pass of the last network (``core.simulate.ForwardMemo``).

A layer's weights depend only on (seed, layer, init, its numbers, gain, fan_in, fan_out, dtype)
(``core.simulate``'s streams), so a network of depth 150 starts with the same 100 matrices as
one of depth 100. Drawing a 256 × 256 Gaussian matrix costs ≈ 0.6 ms, as much as one of the
layer's three matrix products; a class moving a depth slider asks for the same first layers
again and again. ``build_network(config, drawn)`` takes the matrices from here and draws only
the missing ones.

The owner makes one (a worker process keeps one for its life); core keeps no global state.
Entries are read-only: ``simulate`` never writes into a weight, and what would (LSUV's
calibration, training) is built without the memo.

Bounded by bytes. What to keep when full: a layer is used by every deeper network of its
family, so of the least recently used network's matrices the deepest goes first, and a
network's own deeper layer never pushes out its shallower one (a cycle of depths larger than
the bound keeps its first layers instead of evicting each before its next use).
"""

from __future__ import annotations

import threading
from typing import Callable, Hashable

import numpy as np

Array = np.ndarray


class DrawnLayers:
    """A byte-bounded memo of drawn weight matrices, keyed by (family, layer).

    ``family`` is everything but the layer that decides the draw (hashable); ``layer`` ≥ 1.
    Safe to share between threads.
    """

    def __init__(self, max_bytes: int):
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be ≥ 0, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self.nbytes = 0
        self.hits = 0
        self.misses = 0
        self._entries: dict[tuple[Hashable, int], tuple[Array, int]] = {}  # key → (array, use)
        self._uses = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def new_use(self) -> int:
        """A number for one network's build: every layer it touches is stamped with it."""
        with self._lock:
            self._uses += 1
            return self._uses

    def get(self, family: Hashable, layer: int, draw: Callable[[], Array], use: int) -> Array:
        """The memo's matrix for (family, layer), else ``draw()`` kept if it is worth a place.
        The returned array is read-only."""
        key = (family, layer)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries[key] = (entry[0], use)
                self.hits += 1
                return entry[0]
            self.misses += 1
        array = draw()  # outside the lock: drawing is the slow part
        array.flags.writeable = False
        with self._lock:
            if key not in self._entries and self._make_room(array.nbytes, use, layer):
                self._entries[key] = (array, use)
                self.nbytes += array.nbytes
        return array

    def _make_room(self, nbytes: int, use: int, layer: int) -> bool:
        """Evict less useful entries until ``nbytes`` fit; False (nothing evicted beyond what
        is less useful) when the new entry is the least useful one."""
        need = self.nbytes + nbytes - self.max_bytes
        if need <= 0:
            return True
        # Least useful first: the oldest use, and within it the deepest layer.
        worth = (use, -layer)
        victims = sorted((k for k, (_, u) in self._entries.items() if (u, -k[1]) < worth),
                         key=lambda k: (self._entries[k][1], -k[1]))
        chosen, freed = [], 0
        for key in victims:
            if freed >= need:
                break
            chosen.append(key)
            freed += self._entries[key][0].nbytes
        if freed < need:
            return False
        for key in chosen:
            self.nbytes -= self._entries.pop(key)[0].nbytes
        return True
