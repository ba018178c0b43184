"""Debian's redis-server for a test or a benchmark: a temporary folder, a free loopback port,
the shipped deploy/redis.conf (its port and bind overridden), stopped by its process id.

Standard library only. ``RedisServer().start()`` returns once the server answers PING;
``stop()`` ends it (SIGTERM, then SIGKILL), ``pause()``/``resume()`` stop and continue it
(a Redis that does not answer), ``start()`` again restarts it on the same port (empty: nothing
is saved). ``info(section)`` and ``command(...)`` speak RESP on a plain socket.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = REPO_ROOT / "deploy" / "redis.conf"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def available() -> bool:
    return Path(REDIS_SERVER).exists() or shutil.which("redis-server") is not None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, port: int | None = None, maxmemory: str | None = None,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.port = port or free_port()
        self.maxmemory = maxmemory
        self.extra_args = extra_args
        self.folder = Path(tempfile.mkdtemp(prefix="variance-lab-redis-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self, timeout_s: float = 20.0) -> "RedisServer":
        cmd = [REDIS_SERVER, str(CONFIG), "--port", str(self.port), "--bind", "127.0.0.1",
               "--save", "", "--appendonly", "no", "--dir", str(self.folder),
               "--daemonize", "no", "--logfile", str(self.folder / "redis.log")]
        if self.maxmemory:
            cmd += ["--maxmemory", self.maxmemory]
        cmd += list(self.extra_args)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                log = (self.folder / "redis.log")
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}\n{tail}")
            with contextlib.suppress(OSError):
                if self.command("PING") == "PONG":
                    return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server on port {self.port} did not answer")
            time.sleep(0.05)

    def stop(self) -> None:
        """End the server by its process id (it saves nothing: --save '')."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGCONT)  # a paused server cannot act on SIGTERM
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def pause(self) -> None:
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- RESP on a socket: enough for PING, INFO, DBSIZE, SET, GET ---------------------------

    def command(self, *parts: str | bytes, timeout_s: float = 2.0):
        encoded = [p.encode() if isinstance(p, str) else p for p in parts]
        request = f"*{len(encoded)}\r\n".encode() + b"".join(
            f"${len(p)}\r\n".encode() + p + b"\r\n" for p in encoded)
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout_s) as sock:
            sock.sendall(request)
            reader = sock.makefile("rb")
            return _read_reply(reader)

    def info(self, section: str = "") -> dict[str, str]:
        text = self.command("INFO", section) if section else self.command("INFO")
        return dict(line.split(":", 1) for line in text.decode().splitlines()
                    if ":" in line and not line.startswith("#"))


def _read_reply(reader):
    line = reader.readline().rstrip(b"\r\n")
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        if size < 0:
            return None
        data = reader.read(size + 2)
        return data[:-2]
    if kind == b"*":
        return [_read_reply(reader) for _ in range(int(rest))]
    raise RuntimeError(f"unexpected reply {line!r}")
