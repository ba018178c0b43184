"""ui.serving.host: how many computations at once (the environment, else the CPUs a container
may use), and the switches that are on only under the real server."""

from ui.serving import host
from ui.serving.limiter import warmup_wanted


def test_worker_count_and_warmup_switches():
    assert host.worker_count({"VARIANCE_LAB_WORKERS": "3"}) == 3
    assert host.worker_count({"VARIANCE_LAB_WORKERS": "0"}) >= 1  # invalid: the CPU count
    assert host.worker_count({"VARIANCE_LAB_WORKERS": "²"}) >= 1
    assert warmup_wanted({"VARIANCE_LAB_WARMUP": "0"}) is False
    assert warmup_wanted({"VARIANCE_LAB_WARMUP": "1"}) is True
    # Under pytest (AppTest), not the real server: no warm-up by default.
    assert warmup_wanted({}) is False


def test_a_container_cpu_quota_bounds_the_workers(tmp_path):
    limit = tmp_path / "cpu.max"
    limit.write_text("150000 100000\n")
    assert host.cgroup_cpu_quota(str(limit)) == 2
    limit.write_text("max 100000\n")
    assert host.cgroup_cpu_quota(str(limit)) is None
    assert host.cgroup_cpu_quota(str(tmp_path / "absent")) is None
