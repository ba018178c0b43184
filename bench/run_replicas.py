#!/usr/bin/env python
"""Two replicas behind nginx, tested: start them, put the load client through nginx, stop all.

Starts R (default 2) `streamlit run app.py` replicas on 127.0.0.1 with free ports, all with one
STREAMLIT_SERVER_COOKIE_SECRET and VARIANCE_LAB_WORKERS = CPUs / R (so the replicas together
run no more simulations at once than there are cores), then Debian's nginx (/usr/sbin/nginx)
with deploy/nginx.conf — its ports replaced by free ones — in a temporary prefix (not the
system service), then bench/load_client.py against nginx's address, sampling every replica's
memory. At the end: the load figures, how many websockets each replica held (from nginx's
access log, which records the upstream of every request) and whether every session's requests
stayed on one replica. Everything is stopped by its process id.

Usage (from the repo root):
    python bench/run_replicas.py                       # 2 replicas, 30 sessions, 120 s
    python bench/run_replicas.py --duration 60 -- --query preset=tanh_small
Arguments after `--` go to the load client.
"""
from __future__ import annotations

import argparse
import collections
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench import load_client, serve  # noqa: E402

NGINX = "/usr/sbin/nginx"
TEMPLATE = REPO_ROOT / "deploy" / "nginx.conf"
TEMPLATE_PORTS = (8501, 8502)
TEMPLATE_LISTEN = "listen 127.0.0.1:8080;"


def nginx_config(listen_port: int, replica_ports: list[int]) -> str:
    """deploy/nginx.conf with its listen port and upstream servers replaced."""
    text = TEMPLATE.read_text()
    if TEMPLATE_LISTEN not in text:
        raise SystemExit(f"{TEMPLATE} no longer has '{TEMPLATE_LISTEN}'")
    text = text.replace(TEMPLATE_LISTEN, f"listen 127.0.0.1:{listen_port};")
    servers = "".join(f"        server 127.0.0.1:{port};\n" for port in replica_ports)
    pattern = "".join(rf"        server 127\.0\.0\.1:{port};\n" for port in TEMPLATE_PORTS)
    text, count = re.subn(pattern, servers, text)
    if count != 1:
        raise SystemExit(f"{TEMPLATE}: the upstream servers {TEMPLATE_PORTS} were not found")
    return text


def start_nginx(prefix: Path, port: int, replica_ports: list[int]) -> subprocess.Popen:
    (prefix / "logs").mkdir(parents=True)
    (prefix / "tmp").mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_config(port, replica_ports))
    cmd = [NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "logs" / "error.log"),
           "-g", "daemon off;"]
    check = subprocess.run([*cmd[:-2], "-t"], capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"nginx -t failed:\n{check.stderr}")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT, start_new_session=True)
    serve.wait_healthy(f"http://127.0.0.1:{port}", proc, 20)
    return proc


def stop_nginx(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGQUIT)  # graceful: the master ends its workers
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            serve.stop(proc)


def affinity_report(access_log: Path, replica_ports: list[int]) -> dict:
    """Websockets per replica, and routes (cookies) seen on more than one replica."""
    sockets: collections.Counter[str] = collections.Counter()
    upstreams_by_route: dict[str, set[str]] = collections.defaultdict(set)
    line_re = re.compile(r'"(?:GET|POST) (\S+)[^"]*" (\d+) upstream=(\S+) route=(\S+)')
    for line in access_log.read_text(errors="replace").splitlines():
        match = line_re.search(line)
        if not match:
            continue
        path, status, upstream, route = match.groups()
        if path.startswith("/_stcore/stream"):
            sockets[upstream] += 1
        if upstream != "-" and not path.startswith("/_stcore/health"):
            upstreams_by_route[route].add(upstream)
    split = sum(len(ups) > 1 for ups in upstreams_by_route.values())
    result = {"websockets_per_replica": {f"127.0.0.1:{p}": sockets.get(f"127.0.0.1:{p}", 0)
                                         for p in replica_ports},
              "routes": len(upstreams_by_route), "routes_on_several_replicas": split}
    print(f"  affinity: websockets per replica {result['websockets_per_replica']}; "
          f"{result['routes']} cookies, {split} of them seen on more than one replica")
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ours, client_args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) \
        if "--" in argv else (argv, [])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replicas", type=int, default=2, help="1–4 replicas (default 2)")
    p.add_argument("-n", "--sessions", type=int, default=30)
    p.add_argument("--duration", type=float, default=120.0)
    args = p.parse_args(ours)
    if not 1 <= args.replicas <= 4:
        p.error("--replicas must be 1–4")
    if not Path(NGINX).exists():
        raise SystemExit(f"{NGINX} not found (apt-get install nginx)")

    cpus = serve_cpus()
    env = {"STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),
           "VARIANCE_LAB_WORKERS": str(max(1, cpus // args.replicas)),
           "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
    prefix = Path(tempfile.mkdtemp(prefix="variance-lab-nginx-"))
    replicas: list[subprocess.Popen] = []
    nginx = None
    try:
        ports = [serve.free_port() for _ in range(args.replicas)]
        for port in ports:
            replicas.append(serve.start_server(port, env=env))
        nginx_port = serve.free_port()
        nginx = start_nginx(prefix, nginx_port, ports)
        print(f"replicas {', '.join(f'{r.pid}@{p}' for r, p in zip(replicas, ports))} "
              f"(VARIANCE_LAB_WORKERS={env['VARIANCE_LAB_WORKERS']} each), nginx {nginx.pid} on "
              f"http://127.0.0.1:{nginx_port}/ (prefix {prefix})", flush=True)
        client = ["--url", f"http://127.0.0.1:{nginx_port}/", "-n", str(args.sessions),
                  "--duration", str(args.duration), *client_args]
        for proc in replicas:
            client += ["--server-pid", str(proc.pid)]
        load_client.main(client)
        affinity_report(prefix / "logs" / "access.log", ports)
    finally:
        if nginx is not None:
            stop_nginx(nginx)
        for proc in replicas:
            serve.stop(proc)
        shutil.rmtree(prefix, ignore_errors=True)
    return 0


def serve_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
