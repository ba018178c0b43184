"""Teacher links, without Streamlit: which sidebar controls a link hides, and the QR code of a link.

``hide=`` names controls or whole groups, like TensorFlow Playground's ``*_hide`` flags, so that
students change only what a lesson is about:

* a control is a NetworkConfig field (``depth``, ``init_std``, …) or one of the sidebar's other
  items: ``presets``, ``language``, ``present``, ``share``;
* a group is a sidebar section — ``network``, ``init``, ``norm``, ``data`` — or ``sidebar``
  (everything in the sidebar). ``init`` and ``norm`` are also field names: the group wins, since
  a student who cannot pick the init must not change its std either.

``CONTROL_GROUPS`` is the one definition of the sidebar's sections (ui.frame.sidebar draws them).
"""

from __future__ import annotations

import functools
import io
from typing import Iterable

from core import FIELD_SPECS
from ui.frame.errors import InvalidChoice

#: Section name → (fields shown, fields folded under "advanced"), in the sidebar's order.
CONTROL_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "network": (("depth", "width", "activation", "leaky_slope"), ("widths", "dtype")),
    "init": (("init", "init_std", "init_bound", "init_value", "init_mode", "init_gain"),
             ("bias_init", "bias_value", "bias_std")),
    "norm": (("norm", "norm_position", "residual", "residual_form", "residual_scale", "dropout"),
             ("bn_mode", "bn_momentum", "bn_passes")),
    "data": (("batch_size", "seed", "input_dist", "input_preprocess"), ("loss",)),
}
#: Sidebar items that are not config fields.
OTHER_CONTROLS = ("presets", "language", "present", "share")
#: Every group: the sections, and the whole sidebar.
GROUPS: dict[str, tuple[str, ...]] = {
    **{name: shown + folded for name, (shown, folded) in CONTROL_GROUPS.items()},
    "sidebar": tuple(FIELD_SPECS) + OTHER_CONTROLS,
}
CONTROLS = tuple(FIELD_SPECS) + OTHER_CONTROLS
#: Every name ``hide=`` accepts, groups first.
HIDE_NAMES = tuple(GROUPS) + tuple(c for c in CONTROLS if c not in GROUPS)
#: What a teacher picks from in the share box ("students may change: …"), groups then items.
LOCKABLE = tuple(CONTROL_GROUPS) + ("presets", "language")

assert {f for shown, folded in CONTROL_GROUPS.values() for f in shown + folded} == set(
    FIELD_SPECS), "every config field is in exactly one sidebar group"


def parse_hide(text: str) -> tuple[str, ...]:
    """``"init,depth"`` → ``("init", "depth")`` in the canonical order of HIDE_NAMES, duplicates
    dropped; raises InvalidChoice (naming every valid name) for an unknown name."""
    names = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = names - set(HIDE_NAMES)
    if unknown:
        raise InvalidChoice(HIDE_NAMES)
    return tuple(name for name in HIDE_NAMES if name in names)


def format_hide(names: Iterable[str]) -> str:
    return ",".join(names)


def hidden(names: Iterable[str]) -> frozenset[str]:
    """The controls hidden by ``names`` (groups expanded into their controls)."""
    out: set[str] = set()
    for name in names:
        out.update(GROUPS.get(name, (name,)))
    return frozenset(out)


def hide_for_lock(may_change: Iterable[str]) -> tuple[str, ...]:
    """The ``hide=`` names of a teacher link in which students may change only ``may_change``
    (names from LOCKABLE); the present-mode switch and the share box stay for everyone."""
    allowed = set(may_change)
    locked = [name for name in LOCKABLE if name not in allowed]
    if set(CONTROL_GROUPS) <= set(locked) and {"presets", "language"} <= set(locked):
        return ("sidebar",)
    return tuple(locked)


#: Pixels per QR module: a version-10 code (57 modules + 2·4 border) is then ≈ 650 px, about
#: 15 cm on a projected 2 m image, readable by a phone camera from the back of a hall.
QR_SCALE = 10


class LinkTooLongForQR(ValueError):
    """The link holds more than a QR code can (≈ 2,900 bytes at error level M)."""


@functools.lru_cache(maxsize=256)
def qr_png(link: str, scale: int = QR_SCALE) -> bytes:
    """A PNG of the QR code of ``link`` (error correction M, a 4-module quiet zone).

    Cached: the share box draws it on every rerun while its box is open, and encoding a QR
    code costs ≈ 10–20 ms."""
    import segno
    from segno import DataOverflowError

    try:
        code = segno.make_qr(link, error="m")
    except DataOverflowError as error:
        raise LinkTooLongForQR(str(error)) from error
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


__all__ = ["CONTROL_GROUPS", "GROUPS", "HIDE_NAMES", "LOCKABLE", "LinkTooLongForQR",
           "format_hide", "hidden", "hide_for_lock", "parse_hide", "qr_png"]
