"""ui.serving.figures: a figure is built once per key and shared."""

from ui.serving.figures import shared_figure


def test_shared_figure_is_built_once_per_key():
    built = []

    def build(name):
        built.append(name)
        return {"figure": name}

    key = ("test_shared_figure", object())
    first = shared_figure(key, lambda: build("a"))
    again = shared_figure(key, lambda: build("b"))
    assert first is again and built == ["a"]
