"""Several endpoints (issue 4), at mount time: every endpoint unreachable, and --wait-for-endpoints, through the
fault-injecting proxy (faultproxy.py, in front of the testbed's first gateway). Faults during reads are in
test_fault_matrix.py.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from conftest import mount_fstype
from faults import FaultProxy, free_port


@pytest.fixture
def proxy(env, tmp_path):
    upstream = int(env.endpoint.rsplit(":", 1)[1])
    p = FaultProxy(upstream, str(tmp_path))
    yield p
    p.stop()


def test_mount_with_every_endpoint_unreachable_fails_with_one_clear_line(mounter, env):
    dead = [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"]
    mp = mounter.mountpoint()
    r = mounter.run(["--endpoint", ",".join(dead), env.bucket, mp])
    assert r.returncode == 1, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("s3mount: error: no endpoint answered"), lines[0]
    for url in dead:
        assert url in lines[0]
    assert "--wait-for-endpoints" in lines[0]
    assert mount_fstype(mp) is None


def test_wait_for_endpoints_mounts_once_one_comes_up(mounter, env, proxy):
    dead = f"http://127.0.0.1:{free_port()}"
    mp = mounter.mountpoint()
    args = ["--endpoint", dead, "--endpoint", proxy.url, "--wait-for-endpoints", "60", env.bucket, mp]
    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(r=mounter.run(args, timeout=120)))
    started = time.monotonic()
    runner.start()
    time.sleep(2)  # the mount is waiting: nothing listens on either port yet
    assert runner.is_alive(), result["r"].stderr
    proxy.start()
    runner.join(timeout=90)
    r = result["r"]
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - started >= 2
    assert mount_fstype(mp) == "fuse.s3mount"
    os.listdir(mp)


def test_wait_for_endpoints_gives_up_after_its_time(mounter, env):
    dead = f"http://127.0.0.1:{free_port()}"
    mp = mounter.mountpoint()
    started = time.monotonic()
    r = mounter.run(["--endpoint", dead, "--wait-for-endpoints", "2", env.bucket, mp])
    assert r.returncode == 1
    assert "no endpoint answered within 2 s" in r.stderr, r.stderr
    assert 2 <= time.monotonic() - started < 30
