"""core/ stays a NumPy library: no UI packages, no global random state."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_core_imports_no_streamlit_or_plotly():
    code = ("import sys, core, core.__main__; "
            "print([m for m in sys.modules if m.split('.')[0] in ('streamlit', 'plotly', 'scipy')])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"


def test_core_uses_no_global_random_state():
    global_calls = re.compile(r"np\.random\.(seed|rand|randn|normal|uniform|random|randint|"
                              r"standard_normal|choice|shuffle|permutation)\(")
    for path in (ROOT / "core").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not global_calls.search(source), path
        assert "import streamlit" not in source and "import plotly" not in source, path
