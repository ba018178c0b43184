"""Command line.

    python -m core "depth=50&activation=tanh&init=normal&init_std=0.01"   → layer_stats as CSV
    python -m core train "depth=10&width=64&dataset=spiral&lr=0.1&steps=1000"  → history as CSV

The argument is the share link's query string (the part after '?'). Problems with it are
printed to stderr, and the defaults are used for those fields, as the app does. A training
link's batch size and seed are ``train_batch_size`` and ``train_seed`` (``batch_size`` and
``seed`` are the network's).
"""

from __future__ import annotations

import argparse
import sys

from .config import FIELD_SPECS, ConfigError
from .diagnose import diagnose
from .query import TRAIN_QUERY_KEYS, decode_query, decode_train_query
from .simulate import simulate


def _warn(problems) -> None:
    for problem in problems:
        # A repeat or an overlong query is not a bad value that falls back to a default.
        fallback = "" if problem.code in ("repeated", "too_many_fields") else " Using the default."
        print(f"warning: {problem.message}{fallback}", file=sys.stderr)


def _warn_unknown(query: str, known: set[str]) -> None:
    for key in (pair.split("=", 1)[0] for pair in query.lstrip("?").split("&") if pair):
        if key not in known:
            print(f"warning: unknown field {key!r} ignored.", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "train":
        return train_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m core",
        description="Simulate a deep MLP at initialisation; print per-layer statistics as CSV. "
                    "'python -m core train QUERY' trains it instead (see --help there).",
        epilog="Fields: " + ", ".join(FIELD_SPECS))
    parser.add_argument("query", nargs="?", default="",
                        help='a share-link query string, e.g. "depth=50&activation=relu"')
    parser.add_argument("--diagnose", action="store_true", help="also print findings to stderr")
    args = parser.parse_args(argv)
    config, problems = decode_query(args.query)
    _warn(problems)
    _warn_unknown(args.query, set(FIELD_SPECS))
    result = simulate(config)
    result.layer_stats.to_csv(sys.stdout, index=False, float_format="%.6g")
    if args.diagnose:
        for finding in diagnose(result):
            print(f"finding: {finding}", file=sys.stderr)
    return 0


def train_main(argv: list[str]) -> int:
    from .train import train  # only the train command pays for importing it

    parser = argparse.ArgumentParser(
        prog="python -m core train",
        description="Train the network on the data set; print the history (one row per "
                    "recorded step) as CSV.",
        epilog="Training fields: " + ", ".join(TRAIN_QUERY_KEYS.values())
               + ". Network fields: " + ", ".join(FIELD_SPECS))
    parser.add_argument("query", nargs="?", default="",
                        help='e.g. "depth=10&width=64&dataset=spiral&lr=0.1&steps=1000"')
    parser.add_argument("--layers", action="store_true",
                        help="print layer_history (one row per recorded step and layer) instead")
    args = parser.parse_args(argv)
    config, train_config, problems = decode_train_query(args.query)
    _warn(problems)
    _warn_unknown(args.query, set(FIELD_SPECS) | set(TRAIN_QUERY_KEYS.values()))
    try:
        result = train(config, train_config)
    except ConfigError as error:  # e.g. widths that do not fit the data set
        print(f"error: {error}", file=sys.stderr)
        return 2
    frame = result.layer_history if args.layers else result.history
    frame.to_csv(sys.stdout, index=False, float_format="%.6g")
    if result.first_nonfinite is not None:
        step, layer, direction = result.first_nonfinite
        print(f"stopped: non-finite value at step {step}, layer {layer}, {direction} pass.",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
