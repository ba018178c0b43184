"""The Train page run by Streamlit's AppTest: every lesson preset (its question first, the
notice with the answer, predict mode, the class poll), share links (good and bad), the budget
refusal before any work, the controls after arriving, the charts' PNG export, both
languages."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.serving.cache
import ui.serving.train_live
from ui import poll
from ui.frame.i18n import translate
from ui.train.lessons import choices, poll_key
from ui.train.logic import TRAIN_PRESETS, preset_params

from .conftest import shown

APP = str(Path(__file__).resolve().parents[2] / "app.py")
#: A cheap base for tests that are not about a lesson: a small network, few steps.
CHEAP = dict(depth="3", width="16", steps="40", n_points="100", train_batch_size="10")


def en(key, **values):
    return translate("en", key, **values)


def open_train(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    for key, value in query.items():
        at.query_params[key] = value
    return at.switch_page("views/train.py").run()


def figures(at):
    """Figures by title (long titles are wrapped with <br>: compared unwrapped)."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return {spec["layout"]["title"]["text"].replace("<br>", " "): spec for spec in specs}


def loss_figure(at):
    return figures(at)[en("train.chart.loss_title")]


def setup_names(at):
    return [d["name"] for d in loss_figure(at)["data"]
            if d.get("showlegend", True) and d["name"] not in (
                en("train.chart.train"), en("train.chart.test"))]


def test_a_cheap_link_trains_and_draws_every_chart():
    at = open_train(lang="en", **CHEAP)
    assert not at.exception and not at.error and not at.warning
    assert at.title[0].value == en("train.title")
    titles = set(figures(at))
    assert {en("train.chart.loss_title"), en("train.chart.grad_title"),
            en("train.chart.update_title"), en("train.chart.decision_title"),
            en("train.chart.weights_title")} <= titles
    assert setup_names(at) == ["N(0, 0.01²)", "Xavier", "He"]  # named for what they are
    sentences = [m.value for m in at.markdown if "■" in m.value]
    assert len(sentences) == 3
    decision = figures(at)[en("train.chart.decision_title")]
    assert len(decision["frames"]) >= 2 and decision["layout"]["sliders"]
    # the address bar holds the training
    assert at.query_params["steps"] == "40"


@pytest.mark.parametrize("preset_id", list(TRAIN_PRESETS))
def test_each_preset_runs_and_draws_its_setups(preset_id):
    at = open_train(lang="en", **CHEAP)
    at.selectbox(key="train.preset").set_value(preset_id).run()
    assert not at.exception and not at.warning and not at.error
    preset = TRAIN_PRESETS[preset_id]
    assert len(setup_names(at)) == len(preset.setups)
    colours = [d["line"]["color"] for d in loss_figure(at)["data"]
               if d.get("showlegend", True) and d["name"] in setup_names(at)]
    assert len(set(colours)) == len(preset.setups)
    for field, value in preset.network.items():
        assert at.session_state[f"cfg.{field}"] == value
    for field, value in preset.training.items():
        assert at.session_state[f"train.cfg.{field}"] == value
    assert at.query_params["trn_preset"] == preset_id
    # Asked first: the notice (the answer's facts) waits for a choice.
    notice = en(f"train.preset.{preset_id}.notice")
    assert not any(notice in m.value for m in at.markdown)
    button(at, f"lesson.show.{poll_key(preset_id)}").click().run()
    assert any(m.value == notice for m in at.markdown)
    assert answer_open(at, "en")  # a verdict: the runs settle the question
    # move a control after arriving: the page reruns and the preset no longer claims the page
    other = "sgd" if preset.training.get("optimizer") == "adam" else "adam"
    at.selectbox(key="train.cfg.optimizer").set_value(other).run()
    assert not at.exception
    assert "trn_preset" not in at.query_params
    assert at.query_params.get("optimizer", "sgd") == other


def test_a_preset_link_opens_the_lesson():
    pair = TRAIN_PRESETS["zero_init"].pair()
    at = open_train(lang="en", **preset_params("zero_init"))
    assert not at.exception and not at.warning
    assert at.selectbox(key="train.preset").value == "zero_init"
    assert at.session_state["config"] == pair.network
    assert len(setup_names(at)) == 2


@pytest.mark.parametrize("param,value,valid", [
    ("lr", "fast", "a number from 0 to 10"),
    ("dataset", "moons", "spiral"),
    ("steps", "-3", "an integer from 1 to 100000"),
    ("trn", "bogus:1,2", "train_batch_size"),
    ("trn_setups", ";".join(["base"] * 5), "up to 4 set-ups"),
    ("trn_preset", "nope", "clipping"),
    ("trn_step", "x", "an integer"),
])
def test_bad_training_params_warn_and_fall_back(param, value, valid):
    at = open_train(lang="en", **{**CHEAP, param: value})
    assert not at.exception
    warnings = shown(at.warning)
    assert any(param in w and valid in w for w in warnings), warnings
    assert len(setup_names(at)) == 3  # the default sweep, trained


def test_an_invalid_combination_is_refused_and_the_last_valid_one_used():
    at = open_train(lang="en", **{**CHEAP, "train_batch_size": "100"})
    assert not at.exception
    assert any("larger than the training split" in e for e in shown(at.error))
    assert len(setup_names(at)) == 3


def test_a_run_over_the_budget_is_refused_before_any_work(monkeypatch):
    calls = []
    real = ui.serving.train_live.train
    monkeypatch.setattr(ui.serving.train_live, "train",
                        lambda n, t, **hooks: calls.append((n, t)) or real(n, t, **hooks))
    ui.serving.cache.training.clear()
    at = open_train(lang="en", depth="3", width="16", n_points="100", train_batch_size="10",
                    steps="40", trn_setups="base;width=4096&steps=100000")
    assert not at.exception
    warnings = shown(at.warning)
    assert any("too large" in w and "width" in w.lower() for w in warnings), warnings
    assert len(setup_names(at)) == 1
    assert [n.width for n, _ in calls] == [16]  # the refused one never started


def test_cached_runs_are_not_recomputed(monkeypatch):
    ui.serving.cache.training.clear()
    calls = []
    real = ui.serving.train_live.train
    monkeypatch.setattr(ui.serving.train_live, "train",
                        lambda n, t, **hooks: calls.append(n) or real(n, t, **hooks))
    open_train(lang="en", **CHEAP)
    assert len(calls) == 3
    open_train(lang="en", **CHEAP)  # another student on the same link
    assert len(calls) == 3


def test_chinese_page_and_the_step_control():
    at = open_train(lang="zh", **CHEAP)
    assert not at.exception
    assert at.title[0].value == translate("zh", "train.title")
    step = at.select_slider(key="train.w.step")
    assert step.value == 40
    step.set_value(20).run()
    assert at.query_params["trn_step"] == "20"
    assert any(translate("zh", "train.chart.activations_title", step=20) == title
               for title in figures(at))


def test_sweep_and_edited_setups_controls():
    at = open_train(lang="en", **CHEAP)
    at.selectbox(key="train.w.field").set_value("lr").run()
    assert at.query_params["trn"] == "lr:0.01,0.1,1"
    at.text_input(key="train.w.values.lr").input("0.05, 0.5").run()
    assert setup_names(at) == ["lr = 0.05", "lr = 0.5"]
    at.radio(key="train.w.mode").set_value("setups").run()
    assert at.query_params["trn_setups"] == "lr=0.05;lr=0.5"
    at.text_area(key="train.w.setups").input("base\ninit=zeros\nclip=norm").run()
    assert not at.exception and not at.warning
    assert len(setup_names(at)) == 3
    at.text_area(key="train.w.setups").input("init=nope").run()
    assert any("init must be one of" in w for w in shown(at.warning))
    assert len(setup_names(at)) == 3  # kept


def test_explorer_and_compare_link_to_the_train_page_with_the_same_network():
    at = AppTest.from_file(APP, default_timeout=240)
    for key, value in dict(lang="en", depth="3", width="16", activation="relu", **{
            k: v for k, v in CHEAP.items() if k not in ("depth", "width")}).items():
        at.query_params[key] = value
    at.run()
    (link,) = [e for e in at.get("page_link")]
    assert link.proto.page == "train" and "activation=relu" in link.proto.query_string
    assert "depth=3" in link.proto.query_string and "steps=40" in link.proto.query_string
    at.switch_page("views/compare.py").run()
    assert [e.proto.page for e in at.get("page_link")] == ["train"]
    at.switch_page("views/train.py").run()  # arriving from another page
    assert not at.exception and not at.warning
    assert at.session_state["config"].activation == "relu"
    assert len(setup_names(at)) == 3
    at.slider(key="cfg.depth").set_value(2).run()  # then move a sidebar control
    assert not at.exception and at.query_params["depth"] == "2"
    assert len(setup_names(at)) == 3


def button(at, key):
    return next(b for b in at.button if b.key == key)


def choice_radio(at):
    return next(r for r in at.radio if r.key.startswith("lesson.choice."))


def answer_open(at, lang: str) -> bool:
    """The verdict is on screen: a success box, or on the teacher's projector a bold line."""
    verdict = translate(lang, "lesson.right", choice="").rstrip(".。")
    return any(s.value.startswith(verdict) for s in at.success) or any(
        f"**{verdict}" in m.value for m in at.markdown)


def result_sentences(at) -> list[str]:
    return [m.value for m in at.markdown if "■" in m.value]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_lesson_asks_first_and_answers_with_the_notice_and_the_results(lang):
    at = open_train(lang=lang, trn_preset="learning_rate")
    assert not at.exception
    radio = choice_radio(at)
    assert radio.key.startswith("lesson.choice.train.learning_rate.") and radio.value is None
    assert radio.options == [translate(lang, f"train.lesson.learning_rate.choice.{c}")
                             for c in choices("learning_rate")]
    question = translate(lang, "train.lesson.learning_rate.question")
    assert any(question in m.value for m in at.markdown)
    notice = translate(lang, "train.preset.learning_rate.notice")
    assert not any(notice in m.value for m in at.markdown) and not answer_open(at, lang)
    assert not result_sentences(at)  # the measured results come with the answer
    assert translate(lang, "train.results_later") in [c.value for c in at.caption]
    assert len(at.get("plotly_chart")) == 6  # not predict mode: the charts are drawn
    choice_radio(at).set_value("large").run()  # a wrong choice
    assert not at.exception and answer_open(at, lang)
    verdict = next(s.value for s in at.success)
    assert translate(lang, "train.lesson.learning_rate.choice.middle") in verdict
    assert translate(lang, "lesson.you_wrong", choice="10") in verdict
    assert any(m.value == notice for m in at.markdown)
    assert len(result_sentences(at)) == 3


def test_every_lesson_change_starts_closed():
    at = open_train(lang="en", trn_preset="zero_init")
    choice_radio(at).set_value("identical").run()
    assert answer_open(at, "en")
    at.selectbox(key="train.preset").set_value("residual").run()
    assert choice_radio(at).value is None and not answer_open(at, "en")
    # back to the first lesson: a new visit, closed again
    at.selectbox(key="train.preset").set_value("zero_init").run()
    assert choice_radio(at).value is None and not answer_open(at, "en")
    assert choice_radio(at).key.startswith("lesson.choice.train.zero_init.")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_predict_mode_covers_the_charts_until_a_choice(lang):
    at = open_train(lang=lang, trn_preset="residual", predict="1")
    assert not at.exception
    assert not at.get("plotly_chart") and not result_sentences(at)
    assert translate(lang, "lesson.covered") in shown(at.info)
    choice_radio(at).set_value("second").run()
    assert len(at.get("plotly_chart")) == 6 and answer_open(at, lang)
    assert translate(lang, "lesson.covered") not in shown(at.info)


def test_the_class_poll_counts_train_votes_under_their_own_key_and_the_teacher_reveals():
    code = poll.new_code()
    link = dict(lang="en", trn_preset="batchnorm", **{"class": code})
    students = [open_train(**link) for _ in range(3)]
    for student, choice in zip(students, ["second", "second", "both"]):
        choice_radio(student).set_value(choice).run()
        assert not answer_open(student, "en")
        assert en("poll.voted") in [c.value for c in student.caption]
    key = poll_key("batchnorm")
    assert poll.tally(code, key, choices("batchnorm")) == {"first": 0, "second": 2, "both": 1,
                                                          "neither": 0}
    assert poll.votes(code, "batchnorm") == {}  # not the Explorer's lesson of that name
    teacher = open_train(**link, present="1")
    assert not teacher.exception
    assert not any(r.key.startswith("lesson.choice.") for r in teacher.radio)
    label = {c: en(f"train.lesson.batchnorm.choice.{c}") for c in choices("batchnorm")}
    counts = [bar.proto.text for bar in teacher.get("progress")]
    assert counts == [f"{label['first']} — 0", f"{label['second']} — 2",
                      f"{label['both']} — 1", f"{label['neither']} — 0"]
    assert not answer_open(teacher, "en")
    button(teacher, "poll.reveal").click().run()
    assert answer_open(teacher, "en")
    assert [bar.proto.text for bar in teacher.get("progress")][1].startswith("✓ **")
    for student, right in ((students[0], True), (students[2], False)):
        student.run()
        assert answer_open(student, "en")
        assert (en("lesson.you_right") in next(s.value for s in student.success)) is right


@pytest.mark.parametrize("preset_id", ["init", "dropout"])
def test_every_chart_saves_a_1920_by_1080_png_named_after_the_lesson(preset_id):
    at = open_train(lang="en", trn_preset=preset_id)
    charts = at.get("plotly_chart")
    assert len(charts) == 6
    name = en(f"train.preset.{preset_id}.name")
    for chart in charts:
        options = json.loads(chart.proto.config)["toImageButtonOptions"]
        assert options["format"] == "png"
        assert (options["width"] * options["scale"], options["height"] * options["scale"]) == (
            1920, 1080)
        assert options["filename"].split("-")[0] == name.split(" ")[0].strip(":")


def walk(node):
    """Every element and block of ``node`` in page order."""
    for child in getattr(node, "children", {}).values():
        yield child
        yield from walk(child)


WIDGETS = ("selectbox", "slider", "select_slider", "radio", "text_input", "text_area",
           "number_input", "multiselect", "button", "expander")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_lesson_id_alone_opens_the_lesson_first_and_its_controls_after(lang):
    at = open_train(lang=lang, trn_preset="zero_init")
    assert not at.exception and not at.warning and not at.error
    assert at.title[0].value == translate(lang, "train.preset.zero_init.name")
    assert at.selectbox(key="train.preset").value == "zero_init"
    pair = TRAIN_PRESETS["zero_init"].pair()
    assert at.session_state["config"] == pair.network
    assert at.session_state["train.setups"] == TRAIN_PRESETS["zero_init"].setups
    assert at.query_params["trn_preset"] == "zero_init"
    order = [getattr(e, "type", "") for e in walk(at.main)]
    # title, the question and its choices (and "Show the answer"), then the decision maps and
    # the loss chart; every other control after them
    question = next(i for i, e in enumerate(walk(at.main)) if getattr(e, "type", "") ==
                    "markdown" and translate(lang, "lesson.question") in e.value)
    radio = next(i for i, e in enumerate(walk(at.main)) if getattr(e, "type", "") == "radio"
                 and e.key.startswith("lesson.choice."))
    show = next(i for i, e in enumerate(walk(at.main)) if getattr(e, "type", "") == "button"
                and e.key == f"lesson.show.{poll_key('zero_init')}")
    charts = [i for i, kind in enumerate(order) if kind == "plotly_chart"]
    assert order.index("title") < question < radio < show < charts[0]
    lesson_widgets = {radio, show}
    first_widget = min(i for i, kind in enumerate(order) if kind in WIDGETS
                       and i not in lesson_widgets)
    assert charts[1] < first_widget
    titles = list(figures(at))[:2]
    assert titles == [translate(lang, "train.chart.decision_title"),
                      translate(lang, "train.chart.loss_title")]


def test_one_lesson_picker_and_the_explorers_lesson_kept_across_the_page():
    at = AppTest.from_file(APP, default_timeout=240)
    for key, value in dict(lang="en", preset="relu_he").items():
        at.query_params[key] = value
    at.run()
    assert at.sidebar.selectbox(key="ui.preset").value == "relu_he"
    at.switch_page("views/train.py").run()
    assert not at.exception
    pickers = [s for s in at.selectbox if s.key in ("ui.preset", "train.preset")]
    assert [s.key for s in pickers] == ["train.preset"]  # the sidebar's is not drawn here
    at.switch_page("views/explorer.py").run()
    assert at.sidebar.selectbox(key="ui.preset").value == "relu_he"


def test_a_refused_combination_names_both_fields_and_keeps_the_links_other_values():
    at = open_train(lang="en", **{**CHEAP, "n_points": "100", "train_batch_size": "50000",
                                  "lr": "0.5"})
    assert not at.exception
    (error,) = shown(at.error)
    assert "train_batch_size=50000" in error and "n_points" in error
    assert "train_batch_size=10" in error  # what it is trained with instead
    assert len(setup_names(at)) == 3
    # the other values of the link were used: 40 steps, not the default 500
    sentences = [m.value for m in at.markdown if "■" in m.value]
    assert all("in 40 steps" in s for s in sentences), sentences
    assert at.query_params["lr"] == "0.5"


def test_the_page_has_one_budget_for_its_setups_together(monkeypatch):
    from ui.train.logic import PAGE_TRAIN_SECONDS
    from core.train_config import estimated_training_seconds
    from core import NetworkConfig, TrainConfig

    # each set-up within one run's limit, the two together over the page's
    network = NetworkConfig(depth=6, width=512, activation="tanh")
    one = estimated_training_seconds(network, TrainConfig(n_points=1000, batch_size=100,
                                                          steps=700))
    assert PAGE_TRAIN_SECONDS / 2 < one < PAGE_TRAIN_SECONDS
    calls = []
    monkeypatch.setattr(ui.serving.train_live, "train", lambda n, t, **hooks: calls.append(n) or (
        _ for _ in ()).throw(AssertionError("trained")))
    ui.serving.cache.training.clear()
    at = open_train(lang="en", depth="6", width="512", n_points="1000",
                    train_batch_size="100", steps="700",
                    trn_setups="lr=0.1;lr=0.2", trn_names="first;second")
    warnings = shown(at.warning)
    assert any("second" in w and "too large" in w and "page" in w for w in warnings), warnings
    assert not any("first" in w for w in warnings)
    assert len(calls) == 1  # only the first one started (and failed here, on purpose)


def test_present_mode_draws_the_lessons_charts_with_projector_text():
    from ui.chart_style import PROJECTOR_FONT

    at = open_train(lang="en", trn_preset="zero_init", present="1")
    assert not at.exception
    assert at.title[0].value == en("train.preset.zero_init.name")
    assert any(b.label == en("classroom.leave_present") for b in at.button)
    decision, loss = list(figures(at).values())[:2]
    for figure in (decision, loss):
        assert figure["layout"]["font"]["size"] >= PROJECTOR_FONT
    assert all(a["font"]["size"] >= PROJECTOR_FONT for a in decision["layout"]["annotations"])
    assert decision["layout"]["sliders"][0]["currentvalue"]["font"]["size"] >= PROJECTOR_FONT


def test_a_phone_gets_the_maps_sized_to_its_width(monkeypatch):
    import ui.frame.present

    monkeypatch.setattr(ui.frame.present, "on_phone", lambda: True)
    at = open_train(lang="en", trn_preset="init")
    assert not at.exception
    decision = figures(at)[en("train.chart.decision_title")]
    # two to a row, no colour bar beside them, the play buttons under them
    heatmaps = [d for d in decision["data"] if d["type"] == "heatmap"]
    assert len(heatmaps) == 4 and not any(d.get("showscale") for d in heatmaps)
    assert decision["layout"]["updatemenus"][0]["y"] == 0.0
    assert decision["layout"]["updatemenus"][0]["yanchor"] == "top"
    gradients = figures(at)[en("train.chart.grad_title")]
    domains = {tuple(v["domain"]) for k, v in gradients["layout"].items()
               if k.startswith("xaxis")}
    assert domains == {(0.0, 1.0)}  # one panel to a row
