"""python -m core "depth=50&activation=tanh&init=normal&init_std=0.01" → layer_stats as CSV.

The argument is the share link's query string (the part after '?'). Problems with it are
printed to stderr, and the defaults are used for those fields, as the app does.
"""

from __future__ import annotations

import argparse
import sys

from .config import FIELD_SPECS
from .diagnose import diagnose
from .query import decode_query
from .simulate import simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="Simulate a deep MLP at initialisation; print per-layer statistics as CSV.",
        epilog="Fields: " + ", ".join(FIELD_SPECS))
    parser.add_argument("query", nargs="?", default="",
                        help='a share-link query string, e.g. "depth=50&activation=relu"')
    parser.add_argument("--diagnose", action="store_true", help="also print findings to stderr")
    args = parser.parse_args(argv)
    config, problems = decode_query(args.query)
    for problem in problems:
        # A repeat or an overlong query is not a bad value that falls back to a default.
        fallback = "" if problem.code in ("repeated", "too_many_fields") else " Using the default."
        print(f"warning: {problem.message}{fallback}", file=sys.stderr)
    known = set(FIELD_SPECS)
    for key in (pair.split("=", 1)[0] for pair in args.query.lstrip("?").split("&") if pair):
        if key not in known:
            print(f"warning: unknown field {key!r} ignored.", file=sys.stderr)
    result = simulate(config)
    result.layer_stats.to_csv(sys.stdout, index=False, float_format="%.6g")
    if args.diagnose:
        for finding in diagnose(result):
            print(f"finding: {finding}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
