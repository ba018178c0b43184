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
import ipaddress
import socket
from dataclasses import dataclass
from typing import Iterable
from urllib.parse import urlsplit, urlunsplit

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


# --- the address students open -------------------------------------------------------------
# A link carries the address the teacher's browser used (st.context.url). Opened as
# http://localhost:8501 or http://127.0.0.1:8501, it names the teacher's own machine: no
# student's phone can open it. The share box then says so and offers the machine's own network
# addresses instead, read from its interfaces (no traffic is sent).


def host_of(url: str) -> str:
    """The host name of ``url`` (no port, no IPv6 brackets); "" when it has none."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def is_loopback(host: str) -> bool:
    """``localhost`` (and ``*.localhost``), 127.0.0.0/8 and ::1: addresses that reach only the
    machine they are typed on."""
    host = host.strip().lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def with_host(url: str, host: str) -> str:
    """``url`` with its host replaced by ``host`` (port, path and query kept)."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    shown = f"[{host}]" if ":" in host else host
    return urlunsplit((parts.scheme or "http", shown + port, parts.path, parts.query,
                       parts.fragment))


def forwarded_host(headers: dict[str, str]) -> str:
    """The host the browser asked for behind a reverse proxy: the first ``X-Forwarded-Host``,
    else ``Host`` (with its port), or ""."""
    for name in ("X-Forwarded-Host", "Host"):
        value = headers.get(name) or headers.get(name.lower()) or ""
        value = value.split(",")[0].strip()
        if value:
            return value
    return ""


def public_link(url: str, headers: dict[str, str]) -> str:
    """The link as the browser's address, unless that is loopback while the request came
    through a proxy that names another host (then that host, with its port if it has one)."""
    if not is_loopback(host_of(url)):
        return url
    forwarded = forwarded_host(headers)
    if not forwarded or is_loopback(host_of(f"//{forwarded}")):
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme or "http", forwarded, parts.path, parts.query,
                       parts.fragment))


def interface_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses, one per interface, from the kernel
    (``SIOCGIFADDR`` on each interface: no packet is sent, no name is looked up). Empty where
    the platform has no such call."""
    try:
        import fcntl
        import struct

        names = [name for _, name in socket.if_nameindex()]
    except (ImportError, OSError, AttributeError):
        return []
    found: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for name in names:
            try:
                packed = fcntl.ioctl(probe.fileno(), 0x8915,  # SIOCGIFADDR
                                     struct.pack("256s", name[:15].encode()))
            except OSError:  # no IPv4 address on this interface
                continue
            address = socket.inet_ntoa(packed[20:24])
            if not is_loopback(address) and address not in found:
                found.append(address)
    return found


def listens_beyond_loopback(server_address: str | None) -> bool:
    """Whether a server started with ``--server.address`` = this can be reached from other
    machines (unset or empty means every interface, Streamlit's default)."""
    return not server_address or not is_loopback(server_address)


def room_links(link: str, addresses: Iterable[str]) -> list[str]:
    """``link`` on each of the machine's network addresses: the ones to hand out when the
    browser's address is loopback (empty when it is not)."""
    if not is_loopback(host_of(link)):
        return []
    return [with_host(link, address) for address in addresses]


@dataclass(frozen=True)
class Handout:
    """What the share box shows for a link made from the browser's address."""

    link: str                        # the browser's address with the experiment
    loopback_host: str = ""          # that address's loopback host, "" when the link is fine
    room_links: tuple[str, ...] = ()  # the link on each of this machine's network addresses
    reachable: bool = True           # the server listens beyond this machine

    @property
    def for_students(self) -> str:
        """The link the QR code carries: the first network address when the browser's is
        loopback and the server is reachable there, else the link itself."""
        if self.loopback_host and self.reachable and self.room_links:
            return self.room_links[0]
        return self.link


def handout(link: str, addresses: Iterable[str], server_address: str | None) -> Handout:
    """``link`` with, when its host is loopback, the same link on this machine's network
    addresses and whether the server listens there."""
    host = host_of(link)
    if not is_loopback(host):
        return Handout(link)
    return Handout(link, host, tuple(room_links(link, addresses)),
                   listens_beyond_loopback(server_address))

__all__ = ["CONTROL_GROUPS", "GROUPS", "HIDE_NAMES", "LOCKABLE", "LinkTooLongForQR", "Handout",
           "format_hide", "handout", "forwarded_host", "host_of", "interface_addresses", "is_loopback",
           "listens_beyond_loopback", "public_link", "room_links", "with_host", "hidden", "hide_for_lock", "parse_hide", "qr_png"]
