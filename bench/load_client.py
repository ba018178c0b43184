#!/usr/bin/env python
"""A class on one link: N websocket sessions speak Streamlit's own protocol to the app.

Each session opens the same link (default: a lesson preset link) like a browser does — a
``rerun_script`` BackMsg with the link's query string (and, with --page, the page's name: e.g.
``--page train`` opens /train) over ws://HOST/_stcore/stream (subprotocol "streamlit") — then,
every --period seconds (default 3) for --duration seconds (default 120), moves one control
(--control, default the sidebar's Depth slider) to a random one of its values and sends the
WHOLE widget state, as a browser does: every widget of the last run, with the value the server
set or its default, learned from the ForwardMsg deltas, plus the moved control. A control is
named by its widget key or a short name (``depth`` → ``cfg.depth``, ``lr`` →
``train.cfg.lr``, the Train page's learning rate); its values are a slider's range, a select
slider's or a selectbox's options, or --values. A move is sent when the previous rerun has
finished and --period seconds have passed since the previous move (closed loop: a student
waits for the charts).

Per rerun it measures send → ``script_finished`` (a run the server ends early for another rerun
is not finished), and send → its first chart (a Plotly chart's delta: on the Train page a cold
run's first drawing of its progress, else the finished chart). Printed at the end: reruns
served, p50 / p90 / max latency of the moves (the first page loads apart) and of their first
chart, errors (exception elements in the deltas), timeouts (no finish within
--timeout, default 60 s), stale pages (the share link in the URL does not carry the value that
was sent), the moves' p50 / p90 per 20 s of send time (the cold start, then the steady state),
bytes received per rerun, the server's CPU time and memory (when this script started the
server or got --server-pid): the server process's VmHWM and highest VmRSS from
/proc/PID/status, and the highest sampled sum of the proportional set sizes of the server and
its descendants (the worker processes of ui/serving/workers.py), with the machine's load average at the
start, the end and its highest sample.

It starts `streamlit run app.py` itself on 127.0.0.1 with a free port (stopped by its pid at
the end), or uses --url (e.g. nginx in front of replicas, see bench/run_replicas.py). Through a
load balancer each session first GETs the page and keeps its cookies, as a browser does, so a
cookie-based affinity routes its websocket.

Usage (from the repo root):
    python bench/load_client.py                         # 30 sessions, 120 s, /?preset=relu_he
    python bench/load_client.py --page train --query trn_preset=init --control lr --period 10
    python bench/load_client.py -n 30 --duration 60 --json out.json
    python bench/load_client.py --teacher-first 180     # the link opened first, then the class
    python bench/load_client.py --url http://127.0.0.1:8080/ --query preset=tanh_small
    VARIANCE_LAB_WORKERS=30 python bench/load_client.py  # the server's env: e.g. no limit
"""
from __future__ import annotations

import argparse
import asyncio
import http.cookies
import json
import os
import random
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench import serve  # noqa: E402

DEPTH_KEY = "cfg.depth"  # ui.frame.url_state.config_key("depth"); kept literal: no app import here
DEFAULT_QUERY = "preset=relu_he"
#: Widget key prefixes a short control name is tried with: the sidebar's config fields, the
#: Train page's training fields (ui.url_state, ui.train_state; literal: no app import here).
KEY_PREFIXES = ("", "cfg.", "train.cfg.")
#: A Train training field whose link parameter is not its name (core.query.TRAIN_QUERY_KEYS).
LINK_NAMES = {"train.cfg.batch_size": "train_batch_size", "train.cfg.seed": "train_seed"}


def link_param(key: str) -> str:
    """The link parameter a control's key writes (``cfg.depth`` → ``depth``)."""
    if key in LINK_NAMES:
        return LINK_NAMES[key]
    for prefix in ("train.cfg.", "cfg."):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def same_value(text: str | None, value: str) -> bool:
    """Whether the link's ``text`` says ``value`` (numbers compared as numbers)."""
    if text is None:
        return True  # a default is left out of the link: nothing to compare
    try:
        return float(text) == float(value)
    except ValueError:
        return text == value


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


# ---------------------------------------------------------------------------------------------
# What a browser sends: every widget's value, learned from the element protos of the last run.

def widget_state(element):
    """(widget id, WidgetState with the value a browser would send) or None for elements that
    are not widgets or send nothing until clicked (buttons, charts without a selection)."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    kind = element.WhichOneof("type")
    proto = getattr(element, kind, None) if kind else None
    if proto is None or not getattr(proto, "id", ""):
        return None
    state = WidgetState(id=proto.id)
    if kind == "slider":
        if proto.type == proto.SELECT_SLIDER:
            if proto.set_value and proto.raw_value:
                state.string_array_value.data.extend(proto.raw_value)
            else:
                state.string_array_value.data.extend(proto.options[int(i)]
                                                     for i in proto.default)
        else:
            values = proto.value if proto.set_value else proto.default
            state.double_array_value.data.extend(values)
    elif kind in ("selectbox", "radio"):
        if proto.set_value and proto.HasField("raw_value"):
            state.string_value = proto.raw_value
        elif proto.HasField("default") and 0 <= proto.default < len(proto.options):
            state.string_value = proto.options[proto.default]
        else:
            return None
    elif kind == "multiselect":
        values = proto.raw_values if proto.set_value else [proto.options[i]
                                                              for i in proto.default]
        state.string_array_value.data.extend(values)
    elif kind == "button_group":
        values = proto.raw_values if proto.set_value else [proto.options[i].content
                                                              for i in proto.default]
        state.string_array_value.data.extend(values)
    elif kind == "checkbox":
        state.bool_value = proto.value if proto.set_value else proto.default
    elif kind == "number_input":
        state.double_value = proto.value if proto.set_value else proto.default
    elif kind in ("text_input", "text_area"):
        state.string_value = proto.value if proto.set_value else proto.default
    else:  # button, download_button, plotly_chart selections, …: nothing until used
        return None
    return proto.id, state


@dataclass
class Rerun:
    kind: str                 # "load" or "move"
    seconds: float | None     # None: timed out
    nbytes: int
    errors: list[str]
    stale: bool
    sent_at: float = 0.0      # time.monotonic() when the rerun was sent
    first_chart: float | None = None  # send → the rerun's first Plotly chart delta


@dataclass
class Totals:
    reruns: list[Rerun] = field(default_factory=list)
    connect_failures: list[str] = field(default_factory=list)


class Session:
    """One student: a websocket, the widgets of the last run, and the values it sends."""

    def __init__(self, base_url: str, query: str, timeout: float, rng: random.Random,
                 values: list[str] | None = None, page: str = "",
                 control: str = "depth") -> None:
        self.choices = values
        self.base_url = base_url.rstrip("/")
        self.query = query
        self.page = page
        self.control = control
        self.timeout = timeout
        self.rng = rng
        self.page_hash = ""
        self.widgets: dict[str, object] = {}   # widget id → its element proto (last run)
        self.values: dict[str, object] = {}    # widget id → WidgetState the browser holds
        self.control_id: str | None = None
        self.control_key = ""
        self.ws = None

    def cookies(self) -> str:
        """GET the page first, as a browser does, and keep its cookies (load-balancer
        affinity; Streamlit's XSRF cookie)."""
        url = f"{self.base_url}/{self.page}" + (f"?{self.query}" if self.query else "")
        with urllib.request.urlopen(url, timeout=self.timeout) as resp:
            jar = http.cookies.SimpleCookie()
            for header in resp.headers.get_all("Set-Cookie") or []:
                jar.load(header)
            resp.read()
        return "; ".join(f"{k}={m.value}" for k, m in jar.items())

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        cookie = await asyncio.to_thread(self.cookies)
        ws_url = self.base_url.replace("http://", "ws://").replace("https://", "wss://")
        headers = {"Cookie": cookie} if cookie else None
        self.ws = await connect(f"{ws_url}/_stcore/stream", subprotocols=["streamlit"],
                                additional_headers=headers, max_size=None,
                                open_timeout=self.timeout, ping_interval=None)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    def states(self):
        from streamlit.proto.WidgetStates_pb2 import WidgetStates

        states = WidgetStates()
        for widget_id in self.widgets:
            if widget_id in self.values:
                states.widgets.append(self.values[widget_id])
        return states

    async def rerun(self, kind: str, sent_value: str | None = None) -> Rerun:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = BackMsg()
        client = message.rerun_script
        client.query_string = self.query
        client.page_script_hash = self.page_hash
        if not self.page_hash:
            client.page_name = self.page  # the first load: the page the link opens
        client.widget_states.CopyFrom(self.states())
        started = time.perf_counter()
        sent_at = time.monotonic()
        await self.ws.send(message.SerializeToString())
        seen: dict[tuple, object] = {}
        errors: list[str] = []
        nbytes = 0
        first_chart = None
        deadline = started + self.timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return Rerun(kind, None, nbytes, errors, False, sent_at, first_chart)
            try:
                raw = await asyncio.wait_for(self.ws.recv(), remaining)
            except asyncio.TimeoutError:
                return Rerun(kind, None, nbytes, errors, False, sent_at, first_chart)
            nbytes += len(raw)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            what = msg.WhichOneof("type")
            if what == "new_session":
                self.page_hash = msg.new_session.page_script_hash
                seen.clear()
                errors.clear()
            elif what == "navigation":  # st.navigation: the page this run drew
                self.page_hash = msg.navigation.page_script_hash
            elif what == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif what == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                if element.WhichOneof("type") == "exception":
                    errors.append(f"{element.exception.type}: {element.exception.message}")
                if element.WhichOneof("type") == "plotly_chart" and first_chart is None:
                    first_chart = time.perf_counter() - started
                seen[tuple(msg.metadata.delta_path)] = element
            elif what == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                seconds = time.perf_counter() - started
                self._learn(seen.values())
                stale = False
                if sent_value is not None:
                    params = dict(urllib.parse.parse_qsl(self.query))
                    stale = not same_value(params.get(link_param(self.control_key)),
                                           sent_value)
                return Rerun(kind, seconds, nbytes, errors, stale, sent_at, first_chart)

    def _learn(self, elements) -> None:
        widgets: dict[str, object] = {}
        for element in elements:
            found = widget_state(element)
            if found is None:
                continue
            widget_id, state = found
            widgets[widget_id] = element
            proto = getattr(element, element.WhichOneof("type"))
            if getattr(proto, "set_value", False) or widget_id not in self.values:
                self.values[widget_id] = state
            for prefix in KEY_PREFIXES:
                if widget_id.endswith(f"-{prefix}{self.control}"):
                    self.control_id, self.control_key = widget_id, prefix + self.control
        self.widgets = widgets

    def control_values(self) -> list[str]:
        """The values the control may take: --values, else a select slider's or a selectbox's
        options, else a slider's whole range."""
        if self.choices:
            return self.choices
        element = self.widgets[self.control_id]
        kind = element.WhichOneof("type")
        proto = getattr(element, kind)
        if kind == "slider" and proto.type != proto.SELECT_SLIDER:
            return [str(v) for v in range(int(proto.min), int(proto.max) + 1)]
        return list(proto.options)

    def move(self) -> str | None:
        """Move the control to a random one of its values other than its current one; the
        value sent (None if the page has no such control)."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        if self.control_id is None or self.control_id not in self.widgets:
            return None
        element = self.widgets[self.control_id]
        kind = element.WhichOneof("type")
        proto = getattr(element, kind)
        current = self.values.get(self.control_id)
        now = None
        if current is not None:
            field = current.WhichOneof("value")
            held = getattr(current, field)
            now = str(held) if field == "string_value" else (
                str(held.data[0]) if len(held.data) else None)
        options = [v for v in self.control_values() if not same_value(now, v)] \
            or self.control_values()
        value = self.rng.choice(options)
        state = WidgetState(id=self.control_id)
        if kind == "slider" and proto.type != proto.SELECT_SLIDER:
            state.double_array_value.data.append(float(value))
        elif kind == "slider":
            state.string_array_value.data.append(value)
        elif kind in ("selectbox", "radio"):
            state.string_value = value
        else:
            raise SystemExit(f"--control {self.control}: a {kind} cannot be moved here")
        self.values[self.control_id] = state
        return value


async def student(index: int, args, totals: Totals, stop_at: float) -> None:
    rng = random.Random(args.seed * 1000 + index)
    await asyncio.sleep(rng.uniform(0, args.ramp))
    session = Session(args.base_url, args.query, args.timeout, rng, args.values, args.page,
                      args.control)
    try:
        await session.connect()
    except Exception as exc:  # a refused connection is a figure, not a crash
        totals.connect_failures.append(f"{type(exc).__name__}: {exc}")
        return
    try:
        result = await session.rerun("load")
        totals.reruns.append(result)
        if result.seconds is None:
            return
        last_move = time.monotonic()
        await asyncio.sleep(rng.uniform(0, args.period))
        while time.monotonic() < stop_at:
            value = session.move()
            if value is None:
                totals.connect_failures.append(f"no control {args.control!r} in the page")
                return
            last_move = time.monotonic()
            result = await session.rerun("move", value)
            totals.reruns.append(result)
            if result.seconds is None:
                return  # a timed-out session stops (a student would reload)
            wait = last_move + args.period - time.monotonic()
            if wait > 0:
                await asyncio.sleep(min(wait, max(0.0, stop_at - time.monotonic())))
    except Exception as exc:
        totals.connect_failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        await session.close()


class Sampler(threading.Thread):
    """Samples the server's VmRSS/VmHWM and the load average every 0.5 s. The CPU time and the
    ``tree`` memory sum over the server and its descendants (the worker processes and their
    fork server); the tree memory is the sum of their proportional set sizes (a page shared by
    k processes counts 1/k in each), the server's memory use as a whole."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak_rss_kib = {pid: 0 for pid in pids}
        self.hwm_kib = {pid: 0 for pid in pids}
        self.peak_tree_rss_kib = {pid: 0 for pid in pids}
        self.max_load = 0.0
        self.cpu_start = {pid: self.tree_cpu(pid) for pid in pids}
        self.cpu_end = dict(self.cpu_start)
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            self.sample()
            self.halt.wait(0.5)

    @staticmethod
    def tree_cpu(pid: int) -> float:
        """CPU seconds of the server and its live descendants (each with its reaped children)."""
        return sum(serve.cpu_seconds(p) for p in serve.process_tree(pid))

    def sample(self) -> None:
        self.max_load = max(self.max_load, os.getloadavg()[0])
        for pid in self.pids:
            if serve.cpu_seconds(pid) == serve.cpu_seconds(pid):  # not NaN: still there
                self.cpu_end[pid] = self.tree_cpu(pid)
            mem = serve.memory_kib(pid)
            self.peak_rss_kib[pid] = max(self.peak_rss_kib[pid], mem.get("VmRSS", 0))
            self.hwm_kib[pid] = max(self.hwm_kib[pid], mem.get("VmHWM", 0))
            tree = sum(serve.pss_kib(p) for p in serve.process_tree(pid))
            self.peak_tree_rss_kib[pid] = max(self.peak_tree_rss_kib[pid], tree)


def timeline(moves: list[Rerun], started: float, window: float = 20.0) -> list[dict]:
    """The moves' latency per window of send time since the load started: where the cold
    start ends and the steady state begins."""
    rows = []
    last = max((r.sent_at for r in moves), default=started)
    for index in range(int((last - started) // window) + 1):
        low, high = started + index * window, started + (index + 1) * window
        sent = [r for r in moves if low <= r.sent_at < high]
        done = [r.seconds for r in sent if r.seconds is not None]
        rows.append({"from_s": index * window, "moves": len(sent), "p50_s": percentile(done, 50),
                     "p90_s": percentile(done, 90), "timeouts": len(sent) - len(done)})
    return rows


def report(totals: Totals, sampler: Sampler, load_start, load_end, args, wall: float,
           started: float = 0.0) -> dict:
    moves = [r for r in totals.reruns if r.kind == "move"]
    loads = [r for r in totals.reruns if r.kind == "load"]
    done = [r.seconds for r in moves if r.seconds is not None]
    progress = [r.first_chart for r in moves if r.first_chart is not None]
    first_progress = [r.first_chart for r in loads if r.first_chart is not None]
    first = [r.seconds for r in loads if r.seconds is not None]
    errors = [e for r in totals.reruns for e in r.errors]
    served = [r for r in totals.reruns if r.seconds is not None]
    result = {
        "sessions": args.sessions, "duration_s": args.duration, "period_s": args.period,
        "page": args.page, "control": args.control, "query": args.query, "url": args.base_url, "wall_s": round(wall, 1),
        "reruns_served": len(served), "moves_served": len(done),
        "move_p50_s": percentile(done, 50), "move_p90_s": percentile(done, 90),
        "move_max_s": max(done) if done else float("nan"),
        "move_first_chart_p50_s": percentile(progress, 50),
        "move_first_chart_p90_s": percentile(progress, 90),
        "load_p50_s": percentile(first, 50), "load_p90_s": percentile(first, 90),
        "load_max_s": max(first) if first else float("nan"),
        "load_first_chart_p50_s": percentile(first_progress, 50),
        "errors": len(errors), "error_samples": sorted(set(errors))[:5],
        "timeouts": sum(r.seconds is None for r in totals.reruns),
        "stale_pages": sum(r.stale for r in moves),
        "session_failures": len(totals.connect_failures),
        "failure_samples": sorted(set(totals.connect_failures))[:5],
        "kib_per_rerun": round(statistics.mean(r.nbytes for r in served) / 1024, 1)
        if served else 0,
        "server_cpu_s": round(sum(sampler.cpu_end[p] - sampler.cpu_start[p]
                                  for p in sampler.pids), 1),
        "server_vmhwm_mib": {str(p): round(v / 1024) for p, v in sampler.hwm_kib.items()},
        "server_peak_rss_mib": {str(p): round(v / 1024) for p, v in sampler.peak_rss_kib.items()},
        "server_tree_peak_pss_mib": {str(p): round(v / 1024)
                                     for p, v in sampler.peak_tree_rss_kib.items()},
        "loadavg_start": [round(x, 2) for x in load_start],
        "loadavg_end": [round(x, 2) for x in load_end],
        "loadavg_1min_max": round(sampler.max_load, 2),
        "cpus": os.cpu_count(),
        "timeline": timeline(moves, started),
        # Issue 18's goal for the cold start: p90 ≤ 2 s over the moves sent in the first 40 s.
        "first_40s": timeline(moves, started, window=40.0)[0],
    }
    print(f"\n{args.sessions} sessions on {args.base_url}/{args.page}?{args.query}, "
          f"{args.control} moved every {args.period:g} s for {args.duration:g} s "
          f"(wall {wall:.0f} s)\n"
          f"  reruns served {result['reruns_served']} (moves {len(done)}), "
          f"errors {result['errors']}, timeouts ({args.timeout:g} s) {result['timeouts']}, "
          f"stale pages {result['stale_pages']}, session failures {result['session_failures']}\n"
          f"  move rerun p50 {result['move_p50_s']:.3f} s | p90 {result['move_p90_s']:.3f} s | "
          f"max {result['move_max_s']:.3f} s;  a move's first chart p50 "
          f"{result['move_first_chart_p50_s']:.3f} s | p90 "
          f"{result['move_first_chart_p90_s']:.3f} s\n"
          f"  first load p50 {result['load_p50_s']:.3f} s, p90 {result['load_p90_s']:.3f} s, "
          f"max {result['load_max_s']:.3f} s (its first chart p50 "
          f"{result['load_first_chart_p50_s']:.3f} s);  {result['kib_per_rerun']} KiB per "
          f"rerun\n"
          f"  server CPU {result['server_cpu_s']} s"
          + (f" = {1000 * result['server_cpu_s'] / len(served):.0f} ms per served rerun"
             if served else "") + "\n"
          f"  server memory: VmHWM {result['server_vmhwm_mib']} MiB, "
          f"highest VmRSS sampled {result['server_peak_rss_mib']} MiB; with its worker "
          f"processes (PSS summed, highest sampled) {result['server_tree_peak_pss_mib']} MiB\n"
          f"  load average start {result['loadavg_start']}, end {result['loadavg_end']}, "
          f"highest 1-min {result['loadavg_1min_max']} ({result['cpus']} CPUs)")
    print("  by send time: " + " | ".join(
        f"{row['from_s']:.0f}s: {row['moves']} p50 {row['p50_s']:.2f} p90 {row['p90_s']:.2f}"
        for row in result["timeline"]))
    first = result["first_40s"]
    print(f"  first 40 s: {first['moves']} moves p50 {first['p50_s']:.2f} p90 {first['p90_s']:.2f}"
          f" (timeouts {first['timeouts']})")
    for sample in result["error_samples"] + result["failure_samples"]:
        print(f"  ! {sample}")
    return result


async def run_load(args, pids: list[int]) -> dict:
    totals = Totals()
    sampler = Sampler(pids)
    sampler.start()
    load_start = os.getloadavg()
    started = time.monotonic()
    stop_at = started + args.ramp + args.duration
    tasks = [asyncio.create_task(student(i, args, totals, stop_at))
             for i in range(args.sessions)]
    # Bounded in time whatever happens: the last move may start at stop_at and take --timeout.
    done, pending = await asyncio.wait(tasks, timeout=args.ramp + args.duration
                                       + args.timeout + 30)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    wall = time.monotonic() - started
    sampler.halt.set()
    sampler.join()
    sampler.sample()
    return report(totals, sampler, load_start, os.getloadavg(), args, wall, started)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", "--sessions", type=int, default=30, help="sessions (1–200, default 30)")
    p.add_argument("--duration", type=float, default=120.0, help="seconds of moves (≤ 900)")
    p.add_argument("--period", type=float, default=3.0, help="seconds between moves")
    p.add_argument("--ramp", type=float, default=5.0, help="sessions open over this many s")
    p.add_argument("--timeout", type=float, default=60.0, help="a rerun's timeout, s")
    p.add_argument("--query", default=DEFAULT_QUERY, help="the link's query string")
    p.add_argument("--url", help="use this running server (e.g. nginx) instead of starting one")
    p.add_argument("--server-pid", type=int, action="append", default=[],
                   help="with --url: pids whose memory to sample (repeatable)")
    p.add_argument("--repo", type=Path, default=REPO_ROOT,
                   help="start the server from this checkout (A/B against e.g. "
                        "`git archive main | tar -x -C /tmp/main`)")
    p.add_argument("--page", default="", help="the page the link opens, e.g. train "
                                              "(default: the Explorer)")
    p.add_argument("--control", default="depth",
                   help="the control moved: a widget key or a short name (depth, lr, steps, "
                        "…; default depth)")
    p.add_argument("--values", help="comma-separated values to choose from (default: the "
                                    "control's own); e.g. 10,20,30 measures cached reruns")
    p.add_argument("--depths", help="the same as --values (older name)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--teacher-first", type=float, default=0.0, metavar="S",
                   help="the teacher opens the link first (one session), then the class comes "
                        "when the server's log says the link's depth neighbourhood is computed, "
                        "or after S seconds at most (a server this script starts)")
    p.add_argument("--json", help="also write the figures as JSON here")
    args = p.parse_args(argv)
    if not 1 <= args.sessions <= 200:
        p.error("--sessions must be 1–200")
    if not 0 < args.duration <= 900 or not 0 < args.timeout <= 300 or args.period <= 0:
        p.error("--duration must be in (0, 900], --timeout in (0, 300], --period > 0")
    args.query = args.query.lstrip("?")
    args.page = args.page.strip("/")
    text = args.values or args.depths
    args.values = [v.strip() for v in text.split(",") if v.strip()] if text else None
    return args


def teacher_first(args: argparse.Namespace, pids: list[int], log: Path) -> None:
    """One session opens the link, as a teacher does before the class; then wait until the
    server's log says the depth neighbourhood of a network is computed (ui.serving.cache), at
    most ``args.teacher_first`` seconds."""
    started = time.monotonic()
    teacher = argparse.Namespace(**{**vars(args), "sessions": 1, "duration": 1.0, "ramp": 0.0})
    print("the teacher opens the link:", flush=True)
    asyncio.run(run_load(teacher, pids))
    deadline = started + args.teacher_first
    while time.monotonic() < deadline:
        if "depth neighbourhood of" in log.read_text(errors="replace"):
            break
        time.sleep(1.0)
    lines = [line for line in log.read_text(errors="replace").splitlines()
             if "depth neighbourhood of" in line or "warm-up:" in line]
    print(f"the class comes {time.monotonic() - started:.0f} s after the teacher "
          f"(load {os.getloadavg()[0]:.2f}); server log: " + (" | ".join(lines) or "—"),
          flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    proc = None
    if args.url:
        args.base_url = args.url.split("?")[0].rstrip("/")
        pids = args.server_pid
    else:
        port = serve.free_port()
        proc = serve.start_server(port, repo=args.repo)
        args.base_url = f"http://127.0.0.1:{port}"
        pids = [proc.pid]
        print(f"server pid {proc.pid} on {args.base_url} from {args.repo} "
              f"(log {proc.log_path})", flush=True)
    try:
        if args.teacher_first > 0 and proc is not None:
            teacher_first(args, pids, Path(proc.log_path))
        result = asyncio.run(run_load(args, pids))
    finally:
        if proc is not None:
            serve.stop(proc)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
