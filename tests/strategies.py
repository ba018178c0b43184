"""Hypothesis strategies for share links: known keys with valid (small) or garbage values,
unknown keys, repeats, unicode, huge numbers.

Valid sizes are drawn small (depth ≤ 8, widths ≤ 64, batch ≤ 32) so that a decoded link is
cheap to simulate; garbage is anything else a pasted or edited link may hold.
"""

from __future__ import annotations

from hypothesis import strategies as st

from core import FIELD_SPECS

#: Streamlit reserves these and hides them from the app.
RESERVED = {"embed", "embed_options"}
SMALL = {"depth": (1, 8), "width": (1, 64), "batch_size": (2, 32), "bn_passes": (1, 5)}

GARBAGE_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "abc", "1e400", "-1e400", "nan", "inf", "-inf", "9" * 40, "-0",
                     "²", "1²", "١٢", "１２", "0x10", "1_000", "<b>x</b>", "[a](http://x.y)",
                     "1,2,,3", "None", "%00", "\u200b", "true", "on", "1.5", "-3", "ø"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


def _out_of_range(spec) -> st.SearchStrategy[str]:
    return st.one_of(st.integers(int(spec.high) + 1, 10**30),
                     st.integers(-10**30, int(spec.low) - 1)).map(str)


def valid_value(name: str) -> st.SearchStrategy[str]:
    """A value the field accepts, as link text (sizes small)."""
    spec = FIELD_SPECS[name]
    if name in SMALL:
        low, high = SMALL[name]
        return st.integers(low, high).map(str)
    if name == "widths":
        return st.lists(st.integers(1, 64), min_size=2, max_size=6).map(
            lambda ws: ",".join(map(str, ws)))
    if spec.kind == "choice":
        return st.sampled_from(spec.choices)
    if spec.kind == "bool":
        return st.sampled_from(["true", "false", "1", "0", "yes", "off"])
    if spec.kind == "int":
        return st.integers(int(spec.low), int(spec.high)).map(str)
    return st.floats(spec.low, spec.high, allow_nan=False).map(repr)


def field_value(name: str) -> st.SearchStrategy[str]:
    """Valid or garbage; numbers out of range, never a large valid size."""
    spec = FIELD_SPECS[name]
    options = [valid_value(name), GARBAGE_TEXT]
    if spec.kind in ("int", "float"):
        options.append(_out_of_range(spec))
    return st.one_of(*options)


TYPOS = st.sampled_from(["dpeth", "widht", "activaton", "seeed", "lnag", "Depth", "init-std"])


def unknown_key(known: set[str]) -> st.SearchStrategy[str]:
    letters = st.characters(categories=("L", "N"), exclude_characters="&=#%+")
    named = st.text(alphabet=st.one_of(letters, st.just("_")), min_size=1, max_size=12)
    return st.one_of(TYPOS, named).filter(
        lambda k: k not in known and k.lower() not in RESERVED and k.strip() == k)


def pairs(extras: dict[str, st.SearchStrategy[str]] | None = None,
          max_size: int = 10) -> st.SearchStrategy[list[tuple[str, str]]]:
    """(key, value) pairs in link order: config fields, ``extras`` (name → its values),
    unknown keys; repeats happen when a key is drawn twice."""
    extras = extras or {}
    known = set(FIELD_SPECS) | set(extras)
    known_pair = st.sampled_from(sorted(FIELD_SPECS)).flatmap(
        lambda k: st.tuples(st.just(k), field_value(k)))
    options = [known_pair,
               st.tuples(unknown_key(known), GARBAGE_TEXT)]
    if extras:
        options.append(st.sampled_from(sorted(extras)).flatmap(
            lambda k: st.tuples(st.just(k), extras[k])))
    return st.lists(st.one_of(*options), max_size=max_size)


def last_values(link: list[tuple[str, str]]) -> dict[str, str]:
    return {k: v for k, v in link}


def repeated_keys(link: list[tuple[str, str]]) -> set[str]:
    """Keys given more than once with different values."""
    seen: dict[str, set[str]] = {}
    for k, v in link:
        seen.setdefault(k, set()).add(v)
    return {k for k, values in seen.items() if len(values) > 1}
