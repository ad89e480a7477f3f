"""`s3mount prefetch PATH…` through a running mount: it reads every file once (the job's reads then cost no GET),
refuses a path that is not on an s3mount mount with one clear line, holds to --bandwidth, and stops on SIGINT
with exit status 130.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import time

import pytest

from conftest import KiB, MiB, det_bytes, put_many, wait_until
from faults import Stats

FILES = 60
SIZE = 200 * KiB


@pytest.fixture(scope="module")
def warmset(s3, env, prefix) -> dict[str, str]:
    """pf/a/fNN and pf/b/fNN (60 files of ~200 KiB): relative path -> sha256."""
    items = {f"pf/{'ab'[i % 2]}/f{i:02d}": det_bytes(f"pf/{i}", SIZE + i) for i in range(FILES)}
    put_many(s3, env.bucket, {prefix + k: v for k, v in items.items()}, threads=16)
    return {k: hashlib.sha256(v).hexdigest() for k, v in items.items()}


@pytest.fixture
def mounted(mounter, env, prefix, warmset, tmp_path):
    stats = Stats(str(tmp_path / "stats.json"))
    m = mounter.mount(f"{env.bucket}:{prefix}", "--stats-file", stats.path, "--no-dataset-read-ahead")
    assert wait_until(lambda: os.path.exists(stats.path), 5)
    return m, lambda: stats.wait_fresh()["gets"]


def prefetch(env, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([env.binary, "prefetch", *args], capture_output=True, text=True, timeout=120, **kwargs)


def test_prefetch_reads_every_file_once_and_the_job_then_fetches_nothing(mounted, env, warmset):
    m, gets = mounted
    r = prefetch(env, m.p("pf"))
    assert r.returncode == 0, r.stderr
    assert f"read {FILES} of {FILES} files" in r.stderr, r.stderr
    after_prefetch = gets()
    assert after_prefetch >= FILES
    for rel, digest in warmset.items():
        with open(m.p(rel), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest, rel
    # Every byte came from the page cache the prefetch filled.
    assert gets() == after_prefetch


def test_a_path_off_the_mount_is_refused_with_one_line(env, tmp_path):
    r = prefetch(env, str(tmp_path))
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not on an s3mount mount" in lines[0], r.stderr
    r = prefetch(env, str(tmp_path / "missing"))
    assert r.returncode == 1 and "no such path" in r.stderr, r.stderr


def test_the_bandwidth_cap_holds(mounted, env, warmset):
    m, _ = mounted
    total = sum(SIZE + i for i in range(FILES))
    cap = 4 * MiB
    started = time.monotonic()
    r = prefetch(env, "--bandwidth", "4M", m.p("pf"))
    elapsed = time.monotonic() - started
    assert r.returncode == 0, r.stderr
    # A lower bound only: the cap can make the run slower, never faster (the first second's credit aside).
    assert elapsed >= (total - cap) / cap * 0.9, f"{total} bytes in {elapsed:.2f} s under a {cap} B/s cap"


def test_sigint_stops_it_with_status_130(mounted, env):
    m, gets = mounted
    before = gets()
    p = subprocess.Popen([env.binary, "prefetch", "--bandwidth", "64K", m.p("pf")],
                         stderr=subprocess.PIPE, text=True)
    try:
        # Reading has started (its signal handling is in place before) once the mount has sent GETs for it.
        assert wait_until(lambda: gets() > before, 20), "prefetch never read anything"
        assert p.poll() is None, "a 64K/s prefetch of 12 MB finished within seconds"
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "interrupted after" in err, err
