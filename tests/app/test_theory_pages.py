"""The Phase and Spectrum pages run by Streamlit's AppTest: activations, inits outside the
theory, the metric radio and its URL parameter, languages, the click callback (with a fake
Plotly selection payload: AppTest cannot click a chart) and the confirmation it leads to."""

import json
import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.serving import theory_cache
from ui.frame.i18n import translate
from ui.theory.state import APPLIED_KEY, CHART_KEY, METRIC_KEY

from .conftest import shown

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def en(key, **values):
    return translate("en", key, **values)


def open_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    return at.switch_page(page).run()


def figure(at, index=0):
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def traces(fig):
    return [(d["type"], d.get("name")) for d in fig["data"]]


def star(fig):
    found = [d for d in fig["data"] if d.get("marker", {}).get("symbol") == "star"]
    return (found[0]["x"][0], found[0]["y"][0]) if found else None


def no_problem(at):
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


# --- Phase diagram --------------------------------------------------------------------------

@pytest.mark.parametrize("activation,init,expected", [
    ("relu", "kaiming_normal", (2.0, 0.0)),
    ("tanh", "xavier_normal", (1.0, 0.0)),
    ("sigmoid", "xavier_normal", (1.0, 0.0)),
    ("leaky_relu", "kaiming_normal", None),
    ("gelu", "lecun_normal", (1.0, 0.0)),
    ("identity", "orthogonal", (1.0, 0.0)),
    ("selu", "torch_default", None),
])
def test_phase_page_draws_the_map_and_the_marker(activation, init, expected):
    at = open_page("views/phase.py", lang="en", activation=activation, init=init)
    no_problem(at)
    assert at.title[0].value == en("phase.title")
    fig = figure(at)
    names = traces(fig)
    assert names[0][0] == "heatmap" and names[-1] == ("scatter", "cells")
    assert ("scatter", en("phase.critical_line")) in names
    assert activation_label(activation) in fig["layout"]["title"]["text"].replace("<br>", " ")
    marker = star(fig)
    assert marker is not None
    if expected is not None:
        assert marker == pytest.approx(expected)
    assert len(at.metric) == 4
    assert at.metric[3].value in {en(f"phase.phase_name.{p}")
                                  for p in ("ordered", "chaotic", "critical")}


def activation_label(activation):
    return en(f"choice.activation.{activation}")


def test_relu_at_he_init_is_critical():
    at = open_page("views/phase.py", lang="en", activation="relu", init="kaiming_normal")
    assert at.metric[0].value == "1"
    assert at.metric[3].value == en("phase.phase_name.critical")


@pytest.mark.parametrize("init", ["zeros", "constant", "lsuv"])
def test_inits_outside_the_theory_say_so_instead_of_a_marker(init):
    at = open_page("views/phase.py", lang="en", init=init)
    no_problem(at)
    assert star(figure(at)) is None
    assert any("has no place on this map" in w.value for w in at.warning)
    assert not at.metric


def test_a_network_off_the_map_is_named_not_drawn():
    at = open_page("views/phase.py", lang="en", activation="relu", init="normal", init_std="1")
    no_problem(at)
    assert star(figure(at)) is None
    assert any("outside the drawn range" in w.value for w in at.warning)
    assert at.metric[3].value == en("phase.phase_name.chaotic")


def test_metric_radio_and_its_url_parameter():
    at = open_page("views/phase.py", lang="en", phase_metric="xi_c")
    no_problem(at)
    assert at.radio(key=METRIC_KEY).value == "xi_c"
    assert figure(at)["data"][0]["colorbar"]["title"]["text"] == en("phase.colorbar.xi_c")
    at.radio(key=METRIC_KEY).set_value("chi1").run()
    no_problem(at)
    assert figure(at)["data"][0]["colorbar"]["title"]["text"] == en("phase.colorbar.chi1")
    assert at.session_state[METRIC_KEY] == "chi1"


def test_the_metric_survives_a_visit_to_another_page():
    at = open_page("views/phase.py", lang="en", phase_metric="xi_c")
    at.switch_page("views/spectrum.py").run()
    no_problem(at)
    assert at.session_state[METRIC_KEY] == "xi_c"
    at.switch_page("views/phase.py").run()
    assert at.radio(key=METRIC_KEY).value == "xi_c"


def test_a_bad_metric_in_the_link_warns_and_draws_the_default():
    at = open_page("views/phase.py", lang="en", phase_metric="<script>")
    assert not at.exception
    assert any("phase_metric" in w and "one of chi1, xi_c" in w for w in shown(at.warning))
    assert at.radio(key=METRIC_KEY).value == "chi1"


def test_phase_page_in_chinese():
    at = open_page("views/phase.py", lang="zh", activation="relu", init="kaiming_normal")
    no_problem(at)
    assert at.title[0].value == translate("zh", "phase.title")
    fig = figure(at)
    texts = [a["text"] for a in fig["layout"]["annotations"]]
    assert "← " + translate("zh", "phase.side.ordered") in texts
    assert "ReLU" in fig["layout"]["title"]["text"] and "点击" in fig["layout"]["title"]["text"]


def clicking_script():
    """A minimal app: the real URL state and the page's real on_select callback behind a
    button; the test puts a fake Plotly selection payload under the chart's key."""
    import streamlit as st

    from ui.frame import url_state
    from ui.theory.click import apply_selection
    from ui.theory.state import APPLIED_KEY

    url_state.load_once()
    config, _ = url_state.session_config()
    st.session_state["config"] = config
    st.button("click", on_click=apply_selection)
    st.write(f"{config.init}|{config.init_std}|{config.bias_init}|{config.bias_std}")
    st.write(repr(st.session_state.get(APPLIED_KEY)))


def test_the_click_callback_sets_the_config_from_a_selection_payload():
    at = AppTest.from_function(clicking_script, default_timeout=30)
    at.query_params["width"] = "128"
    at.run()
    at.session_state[CHART_KEY] = {"selection": {"points": [
        {"x": 2.0, "y": 0.04, "curve_number": 3, "point_index": 17}], "point_indices": [17]}}
    at.button[0].click().run()
    assert not at.exception
    assert at.markdown[0].value == "normal|0.125|normal|0.2"
    assert "'fan_in': 128" in at.markdown[1].value


def test_the_click_callback_ignores_an_empty_selection():
    at = AppTest.from_function(clicking_script, default_timeout=30).run()
    at.session_state[CHART_KEY] = {"selection": {"points": [], "point_indices": []}}
    at.button[0].click().run()
    assert not at.exception
    assert at.markdown[0].value == "xavier_normal|0.01|zeros|0.1"
    assert at.markdown[1].value == "None"


def test_after_a_click_the_page_confirms_and_links_to_the_explorer():
    """What the callback leaves in the session (the controls and the applied point) makes the
    page confirm, move the marker and offer the Explorer."""
    at = open_page("views/phase.py", lang="en", activation="relu")
    at.session_state["cfg.init"] = "normal"
    at.session_state["cfg.init_std"] = 0.125
    at.session_state["cfg.bias_init"] = "normal"
    at.session_state["cfg.bias_std"] = 0.2
    at.session_state[APPLIED_KEY] = {"sigma_w2": 4.0, "sigma_b2": 0.04, "init_std": 0.125,
                                     "bias_std": 0.2, "fan_in": 256}
    at.run()
    no_problem(at)
    assert "Applied: σ_w² = 4, σ_b² = 0.04" in at.success[0].value
    assert star(figure(at)) == pytest.approx((4.0, 0.04))
    links = at.get("page_link")
    assert links and links[0].proto.label == en("phase.go_explorer")
    # Moving a control afterwards drops the confirmation.
    at.session_state["cfg.init_std"] = 0.1
    at.run()
    assert not at.success
    assert APPLIED_KEY not in at.session_state


def test_chart_has_the_selection_key():
    at = open_page("views/phase.py", lang="en")
    chart = at.get("plotly_chart")[0]
    assert CHART_KEY in chart.proto.id


# --- Jacobian spectrum ----------------------------------------------------------------------

def metric_values(at):
    return {m.label: m.value for m in at.metric}


def test_spectrum_default_config():
    at = open_page("views/spectrum.py", lang="en")
    no_problem(at)
    assert at.title[0].value == en("spectrum.title")
    fig = figure(at)
    assert fig["layout"]["xaxis"]["type"] == "log"
    captions = " ".join(c.value for c in at.caption)
    assert "Exact: the full 256 × 256 Jacobian formed at 4 inputs" in captions
    assert any("Dynamical isometry" in i.value for i in at.info)


def test_orthogonal_linear_network_is_an_isometry():
    at = open_page("views/spectrum.py", lang="en", activation="identity", init="orthogonal")
    no_problem(at)
    values = metric_values(at)
    assert values[en("spectrum.metric.mean_squared")] == "1"
    assert float(values[en("spectrum.metric.spread")]) < 1e-6
    assert values[en("spectrum.metric.range")] == "1 … 1"
    assert values[en("spectrum.metric.zeros")] == "0 / 1024"


def test_gaussian_relu_spreads_and_loses_directions():
    at = open_page("views/spectrum.py", lang="en", activation="relu", init="kaiming_normal")
    no_problem(at)
    values = metric_values(at)
    assert float(values[en("spectrum.metric.spread")]) > 0.5
    assert int(values[en("spectrum.metric.zeros")].split(" / ")[0]) > 0
    assert any("left out of the log-scale histogram" in c.value for c in at.caption)


def test_an_overflowing_network_gets_a_message_not_a_crash():
    at = open_page("views/spectrum.py", lang="en", activation="relu", init="normal",
                   init_std="100", depth="60")
    assert not at.exception
    assert at.error[0].value == en("spectrum.overflow")
    assert not at.get("plotly_chart")


def test_large_networks_are_estimated_and_say_so():
    at = open_page("views/spectrum.py", lang="en", widths="1100,1100,64", batch_size="16")
    no_problem(at)
    captions = " ".join(c.value for c in at.caption)
    assert "Estimate:" in captions and "64 largest singular values" in captions


@pytest.mark.parametrize("query", [{"activation": "tanh"}, {"activation": "sigmoid"},
                                   {"init": "zeros"}, {"init": "lsuv"},
                                   {"norm": "batchnorm"}, {"residual": "true", "dropout": "0.2"}])
def test_spectrum_runs_for_many_configs(query):
    at = open_page("views/spectrum.py", lang="zh", **query)
    no_problem(at)
    assert at.title[0].value == translate("zh", "spectrum.title")


def test_the_spectrum_is_cached_per_config(monkeypatch):
    calls = []
    real = theory_cache.jacobian_spectrum

    def counting(config):
        calls.append(config)
        return real(config)

    monkeypatch.setattr(theory_cache, "jacobian_spectrum", counting)
    theory_cache.spectrum.clear()
    at = open_page("views/spectrum.py", lang="en", depth="4", width="32")
    at.run()
    at.switch_page("views/phase.py").run()
    at.switch_page("views/spectrum.py").run()
    assert len(calls) == 1
    theory_cache.spectrum.clear()


def test_a_click_on_a_one_layer_network_uses_its_only_fan_in():
    from ui.theory.state import config_for_point
    from core import NetworkConfig
    from core.theory import layer_variances

    config = config_for_point(NetworkConfig(widths=(784, 10)), 1.0, 0.0)
    sigma_w2 = layer_variances(config)[0][0]
    assert sigma_w2 == pytest.approx(1.0, rel=0.01)


def test_spectrum_of_a_network_too_large_for_the_jacobian_warns():
    at = open_page("views/spectrum.py", lang="zh", depth="11", width="2048", batch_size="2")
    assert not at.exception
    assert any("雅可比矩阵" in w and "MiB" in w for w in shown(at.warning))
    assert len(at.get("plotly_chart")) == 0
    # the share link is still drawn after the page stopped
    assert any("depth=11" in c.value for c in at.sidebar.code)


@pytest.mark.parametrize("query", [
    dict(activation="relu", init="normal", init_std="1", depth="147"),
    dict(activation="identity", init="normal", init_std="100", depth="49"),
])
def test_phase_page_says_a_growth_beyond_float_range_instead_of_crashing(query):
    """χ1^depth overflows a float here (width 256: χ1 = 128 over 147 layers, χ1 = 2.56e6 over
    49): the page says the number, computed in logs, rather than crash."""
    from core import NetworkConfig
    from core.theory import layer_variances, mean_field

    at = open_page("views/phase.py", **query)
    assert not at.exception, at.exception
    config = at.session_state["config"]
    sigma_w2, sigma_b2, _ = layer_variances(config)[1]
    log10_growth = config.depth * math.log10(mean_field(query["activation"], sigma_w2,
                                                        sigma_b2).chi1)
    assert log10_growth > 308  # beyond the largest float
    sentence = next(c.value for c in at.caption if "χ1^" in c.value)
    mantissa, exponent = sentence.rsplit("≈ ", 1)[1].rstrip(".").split("e+")
    assert int(exponent) == math.floor(log10_growth)
    assert float(mantissa) == pytest.approx(10 ** (log10_growth % 1), rel=0.01)


# --- why χ1 ≈ 1 and the Explorer's ×0.153 are both right --------------------------------------

def approach_numbers(**fields):
    """This network's gradient ratio over its layers and its layers' χ_l, from the mean-field
    table (computed here, not read off the page), and the simulation's measured ratio."""
    from core import NetworkConfig, backward_ratio, simulate
    from core.theory import predict

    config = NetworkConfig(**fields)
    table = predict(config).table
    grad = table["pred_grad_out_var"]
    return (grad.iloc[0] / grad.iloc[-1], table["pred_chi1"].loc[2:],
            backward_ratio(simulate(config).layer_stats))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_phase_page_says_why_chi1_and_the_explorers_ratio_are_both_right(lang):
    ratio, chi, measured = approach_numbers()
    # The default tanh + Xavier: χ1 = 1 at q* = 0, yet ×0.15 over 10 layers from q = 1, as the
    # Explorer measures (within the fluctuation of one draw).
    assert ratio == pytest.approx(measured, rel=0.1) and ratio < 0.2
    assert chi.iloc[0] < 0.7 < 0.85 < chi.iloc[-1] < 1
    at = open_page("views/phase.py", lang=lang)
    assert not at.exception
    sentence = next(text for text in shown(at.info) if "χ1 = 1" in text)
    for value in (ratio, chi.iloc[0], chi.iloc[-1]):
        assert f"{value:.3g}" in sentence
    assert ("approaching" in sentence) if lang == "en" else ("趋近" in sentence)


def test_a_network_at_its_fixed_point_says_each_layer_multiplies_by_chi1():
    ratio, chi, _ = approach_numbers(activation="relu", init="kaiming_normal")
    assert chi.between(0.99, 1.01).all()
    at = open_page("views/phase.py", lang="en", activation="relu", init="kaiming_normal")
    sentence = next(text for text in shown(at.info) if "already multiplies" in text)
    assert f"×{ratio:.3g}" in sentence and "approaching" not in sentence


def test_no_approach_sentence_where_the_story_does_not_hold():
    at = open_page("views/phase.py", lang="en", norm="batchnorm")
    assert not any("the ratio the Explorer measures" in text for text in shown(at.info))
