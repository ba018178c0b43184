"""What a 6-way comparison costs relative to one run, in one process (no assertions).

Every set-up goes through ``ui.serving.cache.simulation`` (Streamlit's process-wide ``st.cache_data``),
as on the Compare page. Measured, median and minimum of REPEATS, the cache cleared before each cold case:

* one run, cold;
* 6 distinct set-ups, cold (6 simulate calls);
* 6 set-ups of which one is a duplicate, cold (5 simulate calls);
* the same 6 set-ups again, warm (0 simulate calls: 6 cache hits, one unpickled copy each);
* building the page's three figures for 6 set-ups.

Run: ``python bench/compare_cost.py`` (Streamlit warns about a missing ScriptRunContext outside
``streamlit run``; harmless).
"""
from __future__ import annotations

import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
logging.getLogger("streamlit").setLevel(logging.ERROR)

from core import NetworkConfig  # noqa: E402
from ui.compare.charts import histogram_grid, units_chart, variance_overlay  # noqa: E402
from ui.frame.i18n import translate  # noqa: E402
from ui.serving import cache  # noqa: E402
from ui.setups import Run, Sweep, build_setups  # noqa: E402

REPEATS = 9
BASE = NetworkConfig(activation="relu", depth=20, width=256, batch_size=512)
SIX = Sweep("init", ("xavier_normal", "kaiming_normal", "normal", "lecun_normal",
                     "xavier_uniform", "kaiming_uniform")).diffs()
WITH_DUPLICATE = SIX[:5] + (SIX[0],)


def tr(key, **values):
    return translate("en", key, **values)


def configs(diffs):
    return [s.config for s in build_setups(BASE, diffs, (), tr)]


def timed(fn, cold: bool) -> tuple[float, float]:
    """(median, min) seconds: the machine is shared, the minimum is the least disturbed."""
    samples = []
    for _ in range(REPEATS):
        if cold:
            cache.simulation.clear()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples)


def run_all(cfgs):
    return [cache.simulation(c) for c in cfgs]


def main() -> None:
    calls = []
    real = cache.simulate
    cache.simulate = lambda config: calls.append(config) or real(config)
    six, dup = configs(SIX), configs(WITH_DUPLICATE)
    cache.simulation(six[0])  # imports and first-call overheads out of the way

    one = timed(lambda: cache.simulation(six[0]), cold=True)
    calls.clear()
    cold_six = timed(lambda: run_all(six), cold=True)
    six_calls = len(calls) / REPEATS
    calls.clear()
    cold_dup = timed(lambda: run_all(dup), cold=True)
    dup_calls = len(calls) / REPEATS
    run_all(six)
    calls.clear()
    warm_six = timed(lambda: run_all(six), cold=False)
    warm_calls = len(calls) / REPEATS
    setups = build_setups(BASE, SIX, (), tr)
    runs = [Run(s, r) for s, r in zip(setups, run_all(six))]
    figures = timed(lambda: (variance_overlay(runs, tr), histogram_grid(runs, None, tr),
                             units_chart(runs, tr)), cold=False)
    cache.simulate = real

    print(f"base: {BASE.activation}, depth {BASE.depth}, width {BASE.width}, "
          f"batch {BASE.batch_size}; 6 set-ups: init = {', '.join(d[0][1] for d in SIX)}")
    print(f"{REPEATS} repeats: median (min) and, relative to one run, median (min)")

    def line(label, value, calls=None):
        extra = f"   ({calls:.0f} simulate calls)" if calls is not None else ""
        print(f"  {label:<38}{value[0] * 1000:7.1f} ms ({value[1] * 1000:6.1f})   "
              f"{value[0] / one[0]:5.2f}× ({value[1] / one[1]:5.2f}×){extra}")

    line("one run, cold", one, 1)
    line("6 distinct set-ups, cold", cold_six, six_calls)
    line("6 set-ups with one duplicate, cold", cold_dup, dup_calls)
    line("6 set-ups, warm cache", warm_six, warm_calls)
    line("the 3 figures for 6 set-ups", figures)

if __name__ == "__main__":
    main()
