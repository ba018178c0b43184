"""The README and docs/: every relative link and #anchor resolves, the README stays short, and it
holds the exact test command that .ci/run runs.

Anchors are computed as GitHub renders them: the heading's text, lower-cased, with everything but
letters, digits, marks, ``_``, ``-`` and spaces removed, spaces turned into ``-``, and ``-1``,
``-2``, … appended to repeated ones.
"""

from __future__ import annotations

import json
import re
import shlex
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
MAX_README_LINES = 200

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"`+[^`]*`+")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, …


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the lines outside fenced code blocks."""
    lines, in_fence = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            lines.append((number, line))
    return lines


def heading_text(markdown: str) -> str:
    """A heading's text as rendered: links reduced to their text, code and emphasis marks gone."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return text.replace("`", "").replace("*", "")


def slug(text: str) -> str:
    """GitHub's anchor of a heading whose rendered text is ``text`` (before de-duplication)."""
    kept = "".join(ch for ch in text.lower()
                   if ch.isalnum() or ch in "_- " or unicodedata.category(ch).startswith("M"))
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file, repeated headings numbered as GitHub does."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = slug(heading_text(match.group(2)))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[tuple[int, str]]:
    """(line number, target) of every Markdown link and image outside code."""
    found = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for match in LINK.finditer(INLINE_CODE.sub("", line)):
            found.append((number, match.group(1)))
    return found


def broken_links(path: Path, root: Path = ROOT) -> list[str]:
    """Why each relative link or anchor of ``path`` does not resolve (empty when all do)."""
    problems = []
    for number, target in links(path):
        if EXTERNAL.match(target):
            continue
        where = f"{path.relative_to(root)}:{number}: {target}"
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if root not in linked.parents and linked != root:
            problems.append(f"{where} leaves the repository")
            continue
        if not linked.exists():
            problems.append(f"{where}: no such file")
            continue
        if anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{where}: no heading with anchor #{anchor} in {linked.name}")
    return problems


def test_slug_matches_githubs_anchors():
    assert slug("Budget: what one run may cost") == "budget-what-one-run-may-cost"
    assert slug(heading_text("Training (`core.train`)")) == "training-coretrain"
    assert slug("layer_stats columns") == "layer_stats-columns"
    assert slug("Serve a class") == "serve-a-class"
    assert slug("Compare, the phase map and the theory lines") == \
        "compare-the-phase-map-and-the-theory-lines"
    assert slug("为课堂提供服务") == "为课堂提供服务"


def test_checker_reports_missing_files_anchors_and_escapes(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A\n\n## Two words\n\n## Two words\n")
    page = tmp_path / "README.md"
    page.write_text(
        "# Title\n\n"
        "[ok](docs/a.md#two-words) [ok](docs/a.md#two-words-1) [ok](#title) [web](https://x.org)\n"
        "[gone](docs/b.md) [bad anchor](docs/a.md#three) [self](#nowhere) [out](../x.md)\n"
        "`[in code](docs/c.md)`\n\n```\n[in a block](docs/d.md)\n```\n")
    problems = broken_links(page, root=tmp_path)
    assert len(problems) == 4, problems
    assert any("docs/b.md: no such file" in p for p in problems)
    assert any("#three" in p for p in problems)
    assert any("#nowhere" in p for p in problems)
    assert any("leaves the repository" in p for p in problems)


@pytest.mark.parametrize("path", [README, *DOCS], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(path):
    assert broken_links(path) == []


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines"


def test_readme_holds_the_ci_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    match = re.search(r"^TEST_COMMAND=(.+)$", ci, re.MULTILINE)
    assert match, ".ci/run has no TEST_COMMAND= line"
    command = shlex.split(match.group(1))[0]
    assert command.startswith("python -m pip install"), command
    readme_lines = README.read_text(encoding="utf-8").splitlines()
    assert command in readme_lines, f"README.md has no line reading exactly {command!r}"


def test_every_docs_file_is_linked_from_the_readme_and_opens_with_what_it_covers():
    readme_targets = {target.partition("#")[0] for _, target in links(README)}
    for path in DOCS:
        assert f"docs/{path.name}" in readme_targets, f"README.md does not link docs/{path.name}"
        title, blank, *rest = path.read_text(encoding="utf-8").splitlines()
        assert title.startswith("# ") and not blank.strip(), path.name
        opening = " ".join(rest[:rest.index("")] if "" in rest else rest)
        assert opening.endswith("."), f"{path.name} does not open with what it covers"


def test_sections_the_app_cites_exist_in_the_readme():
    """The English texts name README sections by their heading ("README, “Serve a class”")."""
    headings = {heading_text(m.group(2)) for _, line in prose_lines(README.read_text("utf-8"))
                if (m := HEADING.match(line))}
    cited = set()
    for locale in (ROOT / "ui").rglob("*.en.json"):
        for text in json.loads(locale.read_text(encoding="utf-8")).values():
            cited.update(re.findall(r"README, “([^”]+)”", text))
    assert cited, "no English text cites a README section"
    assert cited <= headings, f"cited but not in README.md: {sorted(cited - headings)}"
