"""The layering, read from the code's imports with ``ast`` (nothing is imported or run).

- No import cycle among the modules of ui/, views/ and app.py. Every import counts, at module
  level or inside a function: a cycle deferred into a function is still a cycle.
- A page package (ui/<page>/) imports no other page's package.
- A page in views/ imports no other page's package (the set-up machinery both Compare and Train
  use is ui/setups.py, not Compare's).
- Outside the page packages and views/, nothing imports a page's package except the link codec
  (ui/frame/url_state.py), which composes every page's link parameters into the one share link,
  and the entry point (app.py), which hands the warm-up each page's lessons.
- core/ imports no Streamlit, Plotly, ui or views.

A new page registers here (``PAGES``): which package it owns and which views/ files draw it.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Page package (ui/<page>/) → the views/ pages that draw it.
PAGES = {"explorer": ("explorer",), "compare": ("compare",), "theory": ("phase", "spectrum"),
         "train": ("train",)}
#: The one shared module that may import page packages (their link parameters).
LINK_CODEC = "ui.frame.url_state"
#: The entry point: it knows the pages (navigation, and the lessons the warm-up computes).
ENTRY_POINT = "app"
#: What core/ must not import: it is a NumPy library.
NOT_IN_CORE = ("streamlit", "plotly", "ui", "views")


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name → file, for app.py, ui/, views/ and core/ under ``root``."""
    paths = [root / "app.py", *(root / "ui").rglob("*.py"), *(root / "views").glob("*.py"),
             *(root / "core").rglob("*.py")]
    files = {}
    for path in paths:
        if path.exists():
            parts = path.relative_to(root).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """Every dotted name ``path`` imports: ``from a.b import c`` is module a.b.c if there is
    one, else a.b (c is a name in it); relative imports are resolved against the package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                names.add(full if full in known else base)
    return names


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (or a module importing
    itself), by Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def page_of(module: str) -> str | None:
    """The page package a ui module belongs to (None: a shared module)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "ui" and parts[1] in PAGES else None


def violations(root: Path) -> list[str]:
    files = module_files(root)
    known = set(files)
    imports = {name: imported(name, path, known) for name, path in files.items()}
    problems = []
    layered = {name for name in files if name.split(".")[0] in ("app", "ui", "views")}
    graph = {name: {i for i in imports[name] if i in layered} for name in layered}
    problems += [f"import cycle among {', '.join(cycle)}" for cycle in cycles(graph)]
    owner = {f"views.{view}": page for page, views in PAGES.items() for view in views}
    for name in sorted(files):
        top = name.split(".")[0]
        targets = {page_of(i) for i in imports[name]} - {None}
        if top == "core":
            problems += [f"{name} imports {i}" for i in sorted(imports[name])
                         if i.split(".")[0] in NOT_IN_CORE]
        elif top == "views":
            if name not in owner:
                problems.append(f"{name} is not in PAGES: say which package it draws")
            others = sorted(targets - {owner.get(name)})
            problems += [f"{name} imports ui.{page}" for page in others]
        elif page_of(name) is not None:
            problems += [f"{name} imports ui.{page}" for page in sorted(targets - {page_of(name)})]
        elif name not in (LINK_CODEC, ENTRY_POINT):
            problems += [f"{name} (shared) imports ui.{page}" for page in sorted(targets)]
    return problems


def test_imports_keep_the_layering(tmp_path):
    # The checker finds what it must: a tree that breaks every rule once.
    fake = {
        "app.py": "import ui.frame.sidebar\n",
        "ui/__init__.py": "", "ui/frame/__init__.py": "", "ui/compare/__init__.py": "",
        "ui/train/__init__.py": "",
        "ui/frame/sidebar.py": "from ui.compare import logic\n",
        "ui/frame/url_state.py": "from ui.train import state\n",
        "ui/compare/logic.py": "from ui.train.logic import TrainRun\n",
        "ui/train/logic.py": "def f():\n    from . import state\n",
        "ui/train/state.py": "from ui.train.logic import f\n",
        "views/compare.py": "from ui.compare.logic import x\nfrom ui.train import logic\n",
        "views/poll.py": "from ui.frame import url_state\n",
        "core/__init__.py": "", "core/sim.py": "import numpy\nimport plotly.graph_objects\n",
    }
    for name, text in fake.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert violations(tmp_path) == [
        "import cycle among ui.train.logic, ui.train.state",
        "core.sim imports plotly.graph_objects",
        "ui.compare.logic imports ui.train",
        "ui.frame.sidebar (shared) imports ui.compare",
        "views.compare imports ui.train",
        "views.poll is not in PAGES: say which package it draws",
    ]
    # The real tree keeps every rule.
    assert violations(ROOT) == []
