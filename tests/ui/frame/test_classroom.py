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
