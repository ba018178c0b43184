"""deploy/compose.yaml checked against what it wires together (no Docker on these machines:
`docker compose config` runs only where it exists): the nginx config's upstream names a
service and the port the app listens on, the app's environment names the Redis service and
the port of the shipped redis.conf with the variables the app reads, the files it mounts
exist, and nothing in the app service stops `--scale app=N`. The shipped nginx.conf, with the
benchmark's loopback substitutions, passes `nginx -t`."""

import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from ui.serving import host as serving
from ui.serving.redis_store import URL_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
DEPLOY = REPO_ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def nginx_upstream_servers(text: str) -> list[tuple[str, int]]:
    block = re.search(r"upstream\s+variance_lab\s*\{(.*?)\}", text, re.S)
    assert block, "nginx.conf has no upstream variance_lab"
    return [(host, int(port)) for host, port in
            re.findall(r"^\s*server\s+([\w.-]+):(\d+)\s*;", block.group(1), re.M)]


def mounts(service: dict) -> dict[str, str]:
    """Container path → host path (relative to deploy/) of the service's bind mounts."""
    found = {}
    for volume in service.get("volumes", []):
        host, container = volume.split(":")[:2]
        found[container] = host
    return found


def conf_value(text: str, name: str) -> str:
    match = re.search(rf"^\s*{name}\s+(\S+)", text, re.M)
    assert match, f"{name} is not set"
    return match.group(1)


def test_the_services(compose):
    assert set(compose["services"]) == {"app", "nginx", "redis"}


def test_nginx_routes_to_the_app_service_on_the_port_it_listens_on(compose):
    nginx = compose["services"]["nginx"]
    conf_in_container = next(c for c, h in mounts(nginx).items() if h == "./nginx.conf")
    command = " ".join(nginx["command"])
    assert f"-c {conf_in_container}" in command and "daemon off;" in command
    text = (DEPLOY / "nginx.conf").read_text()
    servers = nginx_upstream_servers(text)
    assert servers == [("app", 8501)]
    app_port = int(re.search(r'"--server\.port", "(\d+)"',
                             (REPO_ROOT / "Dockerfile").read_text()).group(1))
    assert servers[0][1] == app_port
    assert str(app_port) in compose["services"]["app"]["expose"]
    listen = int(re.search(r"^\s*listen\s+(\d+)\s*;", text, re.M).group(1))
    assert any(port.split(":")[-1] == str(listen) for port in nginx["ports"])
    assert nginx["depends_on"]["app"]["condition"] == "service_healthy"


def test_the_app_reaches_redis_with_the_variables_it_reads(compose):
    app, redis = compose["services"]["app"], compose["services"]["redis"]
    env = app["environment"]
    url = urlsplit(env[URL_ENV])
    redis_conf = (DEPLOY / "redis.conf").read_text()
    assert url.scheme == "redis" and url.hostname == "redis"
    assert url.port == int(conf_value(redis_conf, "port"))
    conf_in_container = next(c for c, h in mounts(redis).items() if h == "./redis.conf")
    assert redis["command"] == ["redis-server", conf_in_container]
    # One cookie secret for every replica, required; the workers per replica.
    assert env["STREAMLIT_SERVER_COOKIE_SECRET"].startswith("${STREAMLIT_SERVER_COOKIE_SECRET:?")
    assert serving.WORKERS_ENV in env
    # --scale app=N: no fixed host port, no container name.
    assert "ports" not in app and "container_name" not in app
    assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]).is_file()


def test_redis_is_bounded_and_keeps_nothing_on_disk():
    text = (DEPLOY / "redis.conf").read_text()
    assert conf_value(text, "maxmemory-policy") == "allkeys-lru"
    assert re.fullmatch(r"\d+(mb|gb)", conf_value(text, "maxmemory"))
    assert conf_value(text, "appendonly") == "no" and re.search(r'^save ""', text, re.M)


def test_every_mounted_file_exists(compose):
    for service in compose["services"].values():
        for host in mounts(service).values():
            assert (DEPLOY / host).is_file(), host


@pytest.mark.skipif(shutil.which("docker") is None, reason="no Docker here")
def test_docker_compose_accepts_it():
    check = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if check.returncode != 0:
        pytest.skip("docker has no compose plugin here")
    result = subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "--quiet"],
                            capture_output=True, text=True, cwd=DEPLOY,
                            env={"STREAMLIT_SERVER_COOKIE_SECRET": "x", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not Path("/usr/sbin/nginx").exists(), reason="nginx is not installed")
def test_the_benchmarks_loopback_nginx_config_is_valid(tmp_path):
    sys.path.insert(0, str(REPO_ROOT))
    from bench.run_replicas import NGINX, nginx_config

    text = nginx_config(18080, [18501, 18502])
    assert nginx_upstream_servers(text) == [("127.0.0.1", 18501), ("127.0.0.1", 18502)]
    (tmp_path / "logs").mkdir()
    (tmp_path / "tmp").mkdir()
    (tmp_path / "nginx.conf").write_text(text)
    result = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                             "-e", str(tmp_path / "logs" / "error.log")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
