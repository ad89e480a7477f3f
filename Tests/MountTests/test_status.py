"""`s3mount status` (issue 12): one screen (or JSON document) per mount from its daemon's control socket; every
mount of the node without arguments; one clear line and exit status 1 for a path that is not an s3mount mount,
for a mount whose daemon is gone, and for a user who does not own the mount.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import det_bytes, live_daemons, wait_until
from observe import status, status_json

NOBODY = 65534


@pytest.fixture(scope="module")
def tree(s3, env, prefix):
    for name in ("a", "b"):
        s3.put_object(Bucket=env.bucket, Key=f"{prefix}status/{name}/file.bin", Body=det_bytes(name, 300_000))
    return f"{prefix}status"


def test_two_mounts_at_once(mounter, env, tree):
    a = mounter.mount(f"{env.bucket}:{tree}/a", "--read-only")
    b = mounter.mount(f"{env.bucket}:{tree}/b", "--read-only")
    with open(a.p("file.bin"), "rb") as f:
        assert f.read() == det_bytes("a", 300_000)

    documents = status_json(env.binary, a.path, b.path)
    assert [d["mountpoint"] for d in documents] == [a.path, b.path]
    assert [d["prefix"] for d in documents] == [f"{tree}/a/", f"{tree}/b/"]
    assert documents[0]["reads"]["bytes_from_s3"] + documents[0]["reads"]["bytes_from_memory"] == 300_000
    assert documents[1]["reads"]["reads"] == 0
    assert all(d["bucket"] == env.bucket and d["endpoints"][0]["up"] for d in documents)
    assert documents[0]["pid"] in live_daemons(a.path)

    everything = status(env.binary)  # no argument: every mount on the node
    assert everything.returncode == 0, everything.stderr
    for m in (a, b):
        assert f"{m.path}  s3://{env.bucket}/" in everything.stdout
    screen = status(env.binary, a.path).stdout
    for heading in ("endpoints", "throughput", "stall", "bytes read", "metadata", "memory", "uploads", "errors"):
        assert f"  {heading}" in screen, screen
    assert f"{env.endpoint}  up" in screen


def test_recent_errors_are_shown(mounter, env, tree):
    m = mounter.mount(f"{env.bucket}:{tree}")
    with pytest.raises(OSError) as failure:
        os.rmdir(m.p("a"))  # a/ holds file.bin in S3: the daemon answers ENOTEMPTY
    assert failure.value.errno == errno.ENOTEMPTY
    (document,) = status_json(env.binary, m.path)
    assert [(e["operation"], e["errno"]) for e in document["recent_errors"]] == [("rmdir", "ENOTEMPTY")]
    assert "rmdir ENOTEMPTY" in status(env.binary, m.path).stdout


def test_a_path_that_is_not_an_s3mount_mount(env, tmp_path):
    r = status(env.binary, str(tmp_path))
    assert r.returncode == 1
    assert r.stderr == f"s3mount status: error: {tmp_path} is not an s3mount mount: it is not a mountpoint\n"
    r = status(env.binary, "/proc")
    assert r.returncode == 1
    assert r.stderr == "s3mount status: error: /proc is not an s3mount mount: it is a proc mount\n"
    r = status(env.binary, str(tmp_path / "missing"))
    assert r.returncode == 1
    assert r.stderr == f"s3mount status: error: {tmp_path}/missing: no such file or directory\n"


def test_a_mount_whose_daemon_is_gone(mounter, env, tree):
    m = mounter.mount(f"{env.bucket}:{tree}/a")
    (pid,) = live_daemons(m.path)
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not live_daemons(m.path), 10)
    r = status(env.binary, m.path)
    assert r.returncode == 1
    assert r.stderr.startswith(f"s3mount status: error: {m.path}: its s3mount daemon is gone"), r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_another_user_is_refused(mounter, env, tree):
    m = mounter.mount(f"{env.bucket}:{tree}/a")
    # the binary where the other user can run it
    bindir = tempfile.mkdtemp(prefix="s3mount-bin-")
    try:
        os.chmod(bindir, 0o755)
        binary = shutil.copy(env.binary, bindir)
        os.chmod(binary, 0o755)
        r = status(binary, m.path, user=NOBODY)
        assert r.returncode == 1
        assert r.stderr == f"s3mount status: error: {m.path}: permission denied: only the user who mounted it and root may ask\n"
        # the socket itself: its directory lets nobody else in
        (document,) = status_json(env.binary, m.path)
        sockets = [os.path.join("/run/s3mount", n) for n in os.listdir("/run/s3mount")]
        assert stat.S_IMODE(os.stat("/run/s3mount").st_mode) == 0o700
        mine = [s for s in sockets if s.endswith(".sock") and connects_and_names(s, m.path)]
        assert len(mine) == 1
        assert stat.S_IMODE(os.stat(mine[0]).st_mode) == 0o600
        probe = subprocess.run(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "python3", "-c",
             "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])", mine[0]],
            capture_output=True, text=True, timeout=30)
        assert probe.returncode != 0 and "PermissionError" in probe.stderr, probe.stderr
        # and every user may still ask about mounts that are not s3mount's
        assert status(binary, "/proc", user=NOBODY).returncode == 1
    finally:
        shutil.rmtree(bindir)


def connects_and_names(path: str, mountpoint: str) -> bool:
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.connect(path)
        except OSError:
            return False
        s.settimeout(5)
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return f'"mountpoint":"{mountpoint}"'.replace("/", "\\/") in data.decode() or f'"mountpoint":"{mountpoint}"' in data.decode()


def test_watch_refreshes_in_place(mounter, env, tree):
    m = mounter.mount(f"{env.bucket}:{tree}/b")
    p = subprocess.Popen([env.binary, "status", "--watch", "--interval", "0.2", m.path], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        screens = b""
        deadline = time.monotonic() + 20
        while screens.count(b"\x1b[H\x1b[2J") < 3 and time.monotonic() < deadline:
            screens += os.read(p.stdout.fileno(), 65536)
        assert screens.count(b"\x1b[H\x1b[2J") >= 3
        assert screens.count(m.path.encode()) >= 2
    finally:
        p.kill()
        p.wait(timeout=10)
