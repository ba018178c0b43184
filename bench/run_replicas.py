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

With --redis it first starts Debian's redis-server (bench/redis_server.py: deploy/redis.conf,
a temporary folder, a free loopback port, nothing saved) and gives every replica its URL in
VARIANCE_LAB_REDIS_URL, so that they share their results (ui/serving/shared_results.py);
--stop-redis-at S stops it S seconds into the load (by its process id: the replicas must go on
alone, without an error). Every computation a replica does is a line of its log; at the end
the computations per key across the replicas are counted (the goal with Redis: 1 for every
key; computations made while Redis was unreachable are counted apart).

Usage (from the repo root):
    python bench/run_replicas.py                       # 2 replicas, 30 sessions, 120 s
    python bench/run_replicas.py --redis               # … sharing their results through Redis
    python bench/run_replicas.py --redis --stop-redis-at 30
    python bench/run_replicas.py --replicas 1          # the reference: one replica, no Redis
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
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench import load_client, redis_server, serve  # noqa: E402

NGINX = "/usr/sbin/nginx"
TEMPLATE = REPO_ROOT / "deploy" / "nginx.conf"
#: deploy/nginx.conf is compose's: its upstream is the `app` service, it listens on 8080.
TEMPLATE_SERVER = "        server app:8501;\n"
TEMPLATE_LISTEN = "listen 8080;"
COMPUTED = re.compile(r"computed (vl:result:\S*) in ([0-9.]+) s \(([^)]*)\)")


def nginx_config(listen_port: int, replica_ports: list[int]) -> str:
    """deploy/nginx.conf with its listen address and upstream servers replaced (loopback)."""
    text = TEMPLATE.read_text()
    for line in (TEMPLATE_LISTEN, TEMPLATE_SERVER):
        if text.count(line) != 1:
            raise SystemExit(f"{TEMPLATE} no longer has '{line.strip()}' once")
    text = text.replace(TEMPLATE_LISTEN, f"listen 127.0.0.1:{listen_port};")
    servers = "".join(f"        server 127.0.0.1:{port};\n" for port in replica_ports)
    return text.replace(TEMPLATE_SERVER, servers)


def computations_report(logs: list[Path], redis_stopped_at: float | None = None) -> dict:
    """Computations per key across the replicas, from the `computed <key> …` lines of their
    logs (ui/serving/shared_results.py). Those made while the shared store was unreachable (or
    without one) are counted apart: each replica then computes on its own by design."""
    shared: collections.Counter[str] = collections.Counter()
    alone: collections.Counter[str] = collections.Counter()
    per_replica = []
    for log in logs:
        count = 0
        for match in COMPUTED.finditer(log.read_text(errors="replace")):
            key, _, how = match.groups()
            (shared if how == "claimed" else alone)[key] += 1
            count += 1
        per_replica.append(count)
    repeated = {key: n for key, n in shared.items() if n > 1}
    result = {"keys": len(shared), "computations": sum(shared.values()),
              "keys_computed_more_than_once": len(repeated),
              "most_computations_of_a_key": max(shared.values(), default=0),
              "repeated_samples": dict(sorted(repeated.items())[:5]),
              "computed_alone": sum(alone.values()), "keys_computed_alone": len(alone),
              "per_replica": per_replica}
    print(f"  computations: {result['computations']} of {result['keys']} keys shared through "
          f"the store, {len(repeated)} keys computed more than once (most: "
          f"{result['most_computations_of_a_key']}); {result['computed_alone']} computations "
          f"of {len(alone)} keys without the shared store; per replica {per_replica}")
    for key, n in result["repeated_samples"].items():
        print(f"  ! {n}× {key}")
    return result


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
    p.add_argument("--redis", action="store_true",
                   help="share results through Debian's redis-server (started here)")
    p.add_argument("--stop-redis-at", type=float, metavar="S",
                   help="with --redis: stop Redis S seconds after the load starts")
    args = p.parse_args(ours)
    if not 1 <= args.replicas <= 4:
        p.error("--replicas must be 1–4")
    if args.stop_redis_at is not None and not args.redis:
        p.error("--stop-redis-at needs --redis")
    if not Path(NGINX).exists():
        raise SystemExit(f"{NGINX} not found (apt-get install nginx)")
    if args.redis and not redis_server.available():
        raise SystemExit("redis-server not found (apt-get install redis-server)")

    cpus = serve_cpus()
    env = {"STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),
           "VARIANCE_LAB_WORKERS": str(max(1, cpus // args.replicas)),
           "MALLOC_ARENA_MAX": os.environ.get("MALLOC_ARENA_MAX", "2")}
    prefix = Path(tempfile.mkdtemp(prefix="variance-lab-nginx-"))
    replicas: list[subprocess.Popen] = []
    nginx = None
    redis = redis_server.RedisServer() if args.redis else None
    stopper = None
    try:
        if redis is not None:
            redis.start()
            env["VARIANCE_LAB_REDIS_URL"] = redis.url
            print(f"redis-server {redis.pid} on {redis.url} (deploy/redis.conf, folder "
                  f"{redis.folder})", flush=True)
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
        if redis is not None and args.stop_redis_at is not None:
            stopper = threading.Timer(args.stop_redis_at, stop_redis, args=(redis,))
            stopper.daemon = True
            stopper.start()
        load_client.main(client)
        affinity_report(prefix / "logs" / "access.log", ports)
        if redis is not None and redis.proc is not None:
            print(f"  redis: {redis_memory(redis)}")
        computations_report([proc.log_path for proc in replicas])
    finally:
        if stopper is not None:
            stopper.cancel()
        if nginx is not None:
            stop_nginx(nginx)
        for proc in replicas:
            serve.stop(proc)
        if redis is not None:
            redis.close()
        shutil.rmtree(prefix, ignore_errors=True)
    return 0


def stop_redis(redis: redis_server.RedisServer) -> None:
    print(f"\n[{time.strftime('%H:%M:%S')}] stopping redis-server {redis.pid} (--stop-redis-at)",
          flush=True)
    redis.stop()


def redis_memory(redis: redis_server.RedisServer) -> str:
    memory, stats = redis.info("memory"), redis.info("stats")
    return (f"used {memory.get('used_memory_human')} (peak {memory.get('used_memory_peak_human')},"
            f" maxmemory {memory.get('maxmemory_human')}), keys {redis.command('DBSIZE')}, "
            f"evicted {stats.get('evicted_keys')}, hits {stats.get('keyspace_hits')}, "
            f"misses {stats.get('keyspace_misses')}")


def serve_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
