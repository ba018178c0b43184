"""Teacher links and present mode through the real entry point (AppTest): hide=, present=,
series=, the share box's "students may change" and its link."""

import json

import pytest
from urllib.parse import parse_qs, urlsplit

from ui.explorer.charts import PROJECTOR_FONT
from ui.frame.i18n import translate

from .conftest import by_key, shown


def keys(elements) -> set:
    return {e.key for e in elements if e.key}


def sidebar_keys(at) -> set:
    sidebar = at.sidebar
    return (keys(sidebar.slider) | keys(sidebar.select_slider) | keys(sidebar.selectbox)
            | keys(sidebar.toggle) | keys(sidebar.number_input) | keys(sidebar.text_input)
            | keys(sidebar.multiselect))


def share_link(at) -> str:
    return at.sidebar.code[-1].value


def variance_figure(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_hide_names_controls_and_groups_and_keeps_their_values(app):
    at = app(hide="init,depth", depth="17", init="normal", init_std="0.1", lang="en")
    assert not at.exception and not at.warning
    present = sidebar_keys(at)
    assert not {"cfg.depth", "cfg.init", "cfg.init_std"} & present
    assert {"cfg.width", "cfg.activation", "cfg.norm", "cfg.seed", "ui.preset",
            "ui.lang"} <= present
    # Hidden is not reset: the link's values are the experiment, and the link keeps hide=.
    config = at.session_state["config"]
    assert (config.depth, config.init, config.init_std) == (17, "normal", 0.1)
    assert at.query_params["hide"] == "init,depth"
    # A student moves what is left: the experiment changes, the hidden values stay.
    by_key(at.sidebar.select_slider, "cfg.width").set_value(128).run()
    config = at.session_state["config"]
    assert (config.width, config.depth, config.init_std) == (128, 17, 0.1)
    assert parse_qs(urlsplit(share_link(at)).query)["hide"] == ["init,depth"]


def test_hide_sidebar_leaves_no_sidebar(app):
    at = app(hide="sidebar", preset="relu_he", activation="relu", init="kaiming_normal")
    assert not at.exception
    assert sidebar_keys(at) == set() and not at.sidebar.code
    assert len(at.get("plotly_chart")) == 2
    assert at.session_state["config"].activation == "relu"


def test_a_bad_hide_value_warns_naming_the_valid_names_and_hides_nothing(app):
    at = app(hide="depth,<b>x</b>", lang="en")
    assert not at.exception
    warning = " ".join(shown(at.warning))
    assert "hide" in warning and "sidebar" in warning and "init_std" in warning
    assert "<b>" not in at.warning[0].value  # the link's text is shown literally
    assert "cfg.depth" in sidebar_keys(at)


def test_a_bad_present_or_series_value_warns(app):
    at = app(present="yes", series="act_var,nope", lang="en")
    assert not at.exception
    warning = " ".join(shown(at.warning))
    assert "present" in warning and "0, 1" in warning
    assert "series" in warning and "preact_var" in warning
    assert at.session_state["ui.present"] is False


def test_present_mode_by_link_draws_projector_text_and_a_way_out(app):
    at = app(present="1", lang="en")
    assert not at.exception
    fig = variance_figure(at)
    assert fig["layout"]["font"]["size"] >= PROJECTOR_FONT
    assert fig["layout"]["xaxis"]["tickfont"]["size"] >= PROJECTOR_FONT
    leave = next(b for b in at.button if b.label == translate("en", "classroom.leave_present"))
    assert by_key(at.sidebar.toggle, "ui.present").value is True
    assert at.query_params["present"] == "1"
    # The link handed to students does not open in present mode.
    assert "present" not in share_link(at)
    leave.click().run()
    assert not at.exception
    assert at.session_state["ui.present"] is False and "present" not in at.query_params
    assert variance_figure(at)["layout"].get("font", {}).get("size", 12) < PROJECTOR_FONT
    assert not [b for b in at.button if b.label == translate("en", "classroom.leave_present")]


def test_the_present_switch_in_the_sidebar_turns_it_on(app):
    at = app(lang="zh")
    by_key(at.sidebar.toggle, "ui.present").set_value(True).run()
    assert not at.exception and at.query_params["present"] == "1"
    assert variance_figure(at)["layout"]["font"]["size"] >= PROJECTOR_FONT
    assert any(b.label == translate("zh", "classroom.leave_present") for b in at.button)


def test_students_may_change_builds_the_hide_link(app):
    at = app(depth="12", lang="en")
    link = share_link(at)
    assert "hide" not in parse_qs(urlsplit(link).query)
    by_key(at.sidebar.multiselect, "ui.may_change").set_value(["init"]).run()
    query = parse_qs(urlsplit(share_link(at)).query)
    assert query["hide"] == ["network,norm,data,presets,language"]
    assert query["depth"] == ["12"]
    # The teacher's own page keeps every control and its address bar has no hide=.
    assert "cfg.depth" in sidebar_keys(at) and "hide" not in at.query_params
    by_key(at.sidebar.multiselect, "ui.may_change").set_value([]).run()
    assert parse_qs(urlsplit(share_link(at)).query)["hide"] == ["sidebar"]


def test_more_series_are_drawn_on_request_and_kept_in_the_link(app):
    at = app(series="preact_var", lang="en")
    names = [d["name"] for d in variance_figure(at)["data"]]
    assert translate("en", "chart.series.preact_var") in names
    assert translate("en", "chart.series.preact_unit_var") not in names
    at.get("button_group")[0].set_value(["preact_var", "act_unit_var"]).run()
    names = [d["name"] for d in variance_figure(at)["data"]]
    assert translate("en", "chart.series.act_unit_var") in names
    assert at.query_params["series"] == "preact_var,act_unit_var"


def test_the_share_boxs_qr_code_is_drawn_only_while_its_expander_is_open(app):
    at = app(depth="12", lang="en")
    assert not at.exception
    assert not at.sidebar.get("image")  # a closed box: no QR code encoded, no image to fetch
    at.session_state["ui.share_qr"] = True
    at.run()
    assert not at.exception
    assert len(at.sidebar.get("image")) == 1
    by_key(at.sidebar.slider, "cfg.depth").set_value(13).run()
    assert len(at.sidebar.get("image")) == 1 and "depth=13" in share_link(at)


# --- a loopback address in the share box -------------------------------------------------------

def open_on_loopback(app, monkeypatch, lang, server_address=None):
    import ui.frame.present
    import ui.frame.url_state

    monkeypatch.setattr(ui.frame.url_state, "page_address", lambda: "http://127.0.0.1:8501/")
    monkeypatch.setattr(ui.frame.present, "interface_addresses", lambda: ["192.168.1.20"])
    if server_address is not None:
        from streamlit import config
        monkeypatch.setattr(ui.frame.present.st, "get_option",
                            lambda name: server_address if name == "server.address"
                            else config.get_option(name))
    return app(lang=lang, depth="13")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_loopback_address_is_named_and_the_network_address_offered(app, monkeypatch, lang):
    at = open_on_loopback(app, monkeypatch, lang)
    assert not at.exception
    warning = shown(at.sidebar.warning)
    assert any(translate(lang, "classroom.loopback", host="127.0.0.1") in w for w in warning)
    browsers, offered = [c.value for c in at.sidebar.code]
    assert browsers.startswith("http://127.0.0.1:8501/?") and "depth=13" in browsers
    assert offered == browsers.replace("127.0.0.1", "192.168.1.20")
    assert translate(lang, "classroom.loopback_use") in [c.value for c in at.sidebar.caption]


def test_the_qr_code_carries_the_network_address(app, monkeypatch):
    import ui.frame.sidebar

    encoded = []
    real = ui.frame.sidebar.qr_png
    monkeypatch.setattr(ui.frame.sidebar, "qr_png", lambda link: encoded.append(link) or real(link))
    at = open_on_loopback(app, monkeypatch, "en")
    at.session_state["ui.share_qr"] = True  # the QR box opened, as a click would
    at.run()
    assert len(at.sidebar.get("image")) == 1
    offered = at.sidebar.code[1].value
    assert offered.startswith("http://192.168.1.20:8501/") and encoded[-1] == offered


def test_a_server_on_loopback_only_is_told_to_listen_on_the_network(app, monkeypatch):
    at = open_on_loopback(app, monkeypatch, "en", server_address="127.0.0.1")
    assert translate("en", "classroom.loopback_bind") in [c.value for c in at.sidebar.caption]
    assert [c.value.split("?")[0] for c in at.sidebar.code] == [
        "http://127.0.0.1:8501/", "http://192.168.1.20:8501/"]


def test_a_network_address_draws_no_warning(app):
    at = app(lang="en")
    assert not at.sidebar.warning
