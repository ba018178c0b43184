"""Teacher links: hide= parsing and expansion, the share box's lock, the QR code."""

import struct

import pytest

from core import FIELD_SPECS
from ui.frame import classroom
from ui.frame.errors import InvalidChoice


def test_hide_names_parse_into_the_canonical_order_without_duplicates():
    assert classroom.parse_hide("depth, init,depth,") == ("init", "depth")
    assert classroom.parse_hide("") == ()
    assert classroom.parse_hide("SIDEBAR") == ("sidebar",)
    assert classroom.format_hide(classroom.parse_hide("seed,network")) == "network,seed"


def test_an_unknown_name_is_refused_naming_every_valid_one():
    with pytest.raises(InvalidChoice) as error:
        classroom.parse_hide("depth,<b>x</b>")
    assert set(error.value.choices) == set(classroom.HIDE_NAMES)
    assert {"sidebar", "init", "depth", "presets", "language"} <= set(error.value.choices)


def test_groups_expand_into_their_controls_and_a_group_wins_over_its_field():
    assert classroom.hidden(("depth",)) == {"depth"}
    init = classroom.hidden(("init",))
    # init is a field and a group: the group hides the init and every parameter of it.
    assert {"init", "init_std", "init_gain", "bias_init", "bias_std"} <= init
    assert "depth" not in init
    assert classroom.hidden(("sidebar",)) == set(FIELD_SPECS) | {"presets", "language",
                                                                  "present", "share"}
    shown, folded = classroom.CONTROL_GROUPS["data"]
    assert classroom.hidden(("data",)) == set(shown + folded)


def test_students_may_change_only_what_the_teacher_leaves_unlocked():
    everything = classroom.LOCKABLE
    assert classroom.hide_for_lock(everything) == ()
    assert classroom.hide_for_lock(("init",)) == ("network", "norm", "data", "presets",
                                                  "language")
    assert classroom.hide_for_lock(()) == ("sidebar",)
    # Round trip through the link: what is hidden is exactly what was locked.
    hide = classroom.parse_hide(classroom.format_hide(classroom.hide_for_lock(("init", "data"))))
    hidden = classroom.hidden(hide)
    assert "init_std" not in hidden and "seed" not in hidden and "depth" in hidden


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_qr_png_is_big_enough_to_scan_from_the_back_of_a_hall():
    import segno

    link = "https://variance-lab.example/?depth=50&activation=relu&init=kaiming_normal&lang=zh"
    width, height = _png_size(classroom.qr_png(link))
    modules = segno.make_qr(link, error="m").symbol_size(scale=1, border=4)[0]
    assert width == height == modules * classroom.QR_SCALE
    assert width >= 400


def test_a_link_too_long_for_a_qr_code_says_so():
    with pytest.raises(classroom.LinkTooLongForQR):
        classroom.qr_png("https://x.example/?" + "a" * 5000)


# --- the address students open -----------------------------------------------------------------

@pytest.mark.parametrize("host,loopback", [
    ("localhost", True), ("LOCALHOST.", True), ("app.localhost", True), ("127.0.0.1", True),
    ("127.0.0.2", True), ("127.255.255.254", True), ("::1", True), ("192.168.1.20", False),
    ("10.0.0.5", False), ("lab.example.org", False), ("fe80::1", False), ("", False)])
def test_loopback_hosts_are_localhost_127_slash_8_and_ipv6_one(host, loopback):
    assert classroom.is_loopback(host) is loopback


def test_a_link_keeps_port_path_and_query_when_its_host_changes():
    link = "http://127.0.0.1:8501/train?depth=3&lang=zh"
    assert classroom.host_of(link) == "127.0.0.1"
    assert classroom.with_host(link, "192.168.1.20") == "http://192.168.1.20:8501/train?depth=3&lang=zh"
    assert classroom.with_host("http://[::1]:8501/?a=1", "fe80::2") == "http://[fe80::2]:8501/?a=1"
    assert classroom.host_of("http://[::1]:8501/") == "::1"


def test_a_loopback_link_is_offered_on_the_machines_network_address():
    given = classroom.handout("http://localhost:8501/?depth=3", ["192.168.1.20", "10.0.0.5"],
                              server_address="0.0.0.0")
    assert given.loopback_host == "localhost" and given.reachable
    assert given.room_links == ("http://192.168.1.20:8501/?depth=3", "http://10.0.0.5:8501/?depth=3")
    assert given.link == "http://localhost:8501/?depth=3"  # the browser's, as it was
    assert given.for_students == given.room_links[0]  # what the QR code carries


def test_a_server_listening_on_loopback_only_keeps_the_link_and_says_why():
    given = classroom.handout("http://127.0.0.1:8501/?depth=3", ["192.168.1.20"],
                              server_address="127.0.0.1")
    assert not given.reachable and given.for_students == "http://127.0.0.1:8501/?depth=3"
    assert given.room_links == ("http://192.168.1.20:8501/?depth=3",)
    # Streamlit's default (no --server.address) listens on every interface.
    assert classroom.handout("http://127.0.0.1:8501/", ["10.1.2.3"], None).reachable


def test_a_network_link_is_handed_out_as_it_is():
    for link in ("http://192.168.1.20:8501/?depth=3", "https://lab.example.org/train", ""):
        given = classroom.handout(link, ["10.0.0.5"], "0.0.0.0")
        assert given == classroom.Handout(link)


def test_behind_a_proxy_the_forwarded_host_names_the_link():
    url = "http://127.0.0.1:8501/compare"
    assert classroom.public_link(url, {"X-Forwarded-Host": "lab.example.org, proxy"}) == (
        "http://lab.example.org/compare")
    assert classroom.public_link(url, {"Host": "192.168.1.20:8080"}) == "http://192.168.1.20:8080/compare"
    assert classroom.public_link(url, {"Host": "localhost:8501"}) == url
    assert classroom.public_link("http://10.0.0.5:8501/", {"Host": "lab.example.org"}) == (
        "http://10.0.0.5:8501/")


def test_the_machines_addresses_are_ipv4_and_never_loopback():
    addresses = classroom.interface_addresses()
    assert all(not classroom.is_loopback(a) and a.count(".") == 3 for a in addresses)
