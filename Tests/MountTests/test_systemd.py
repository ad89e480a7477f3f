"""systemd integration (issue 11): sd_notify for Type=notify units (READY=1 only once the mount answers,
STOPPING=1 at SIGTERM, a STATUS= line with each), SIGHUP reopens the log file and keeps the mount, and the template
unit passes systemd-analyze verify."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess

import pytest

from conftest import is_mounted, mount_fstype, put_many, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = {"unit/hello.txt": b"hello from a unit\n"}


@pytest.fixture(scope="module")
def source(s3, env, prefix):
    put_many(s3, env.bucket, {prefix + k: v for k, v in FILES.items()})
    return f"{env.bucket}:{prefix}unit"


class Notifications:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET; each message as a dict of its KEY=VALUE lines."""

    def __init__(self, path: str):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def next(self, timeout: float) -> dict[str, str]:
        self.sock.settimeout(timeout)
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.splitlines() if "=" in line)

    def close(self) -> None:
        self.sock.close()


def start_foreground(env, source: str, mp: str, log: str, notify: str) -> subprocess.Popen:
    child_env = dict(env.child_env(), NOTIFY_SOCKET=notify)
    return subprocess.Popen([env.binary, "--foreground", "--endpoint", env.endpoint, "--log-file", log, source, mp],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=child_env)


def test_ready_after_the_mount_answers_sighup_reopens_the_log_and_sigterm_says_stopping(mounter, env, source,
                                                                                         tmp_path):
    mp = mounter.mountpoint()
    log = str(tmp_path / "daemon.log")
    notifications = Notifications(str(tmp_path / "notify.sock"))
    proc = start_foreground(env, source, mp, log, notifications.path)
    try:
        ready = notifications.next(timeout=30)
        # Checked the moment READY=1 arrives: the mount must already answer.
        assert mount_fstype(mp) == "fuse.s3mount", "READY=1 came before the mount existed"
        assert os.listdir(mp) == ["hello.txt"], "READY=1 came before the mount answered"
        assert ready.get("READY") == "1", ready
        assert mp in ready.get("STATUS", ""), ready

        # logrotate: move the file away, SIGHUP; the daemon writes to a new file at the path and keeps the mount.
        os.rename(log, log + ".1")
        proc.send_signal(signal.SIGHUP)
        assert wait_until(lambda: os.path.exists(log) and "SIGHUP" in open(log).read(), 10), \
            "no new log file with the SIGHUP line after SIGHUP"
        assert "reopened" in open(log).read()
        assert proc.poll() is None and is_mounted(mp), "SIGHUP ended the mount"
        with open(os.path.join(mp, "hello.txt"), "rb") as f:
            assert f.read() == FILES["unit/hello.txt"]

        proc.send_signal(signal.SIGTERM)
        stopping = notifications.next(timeout=20)
        assert stopping.get("STOPPING") == "1", stopping
        assert "SIGTERM" in stopping.get("STATUS", ""), stopping
        assert proc.wait(timeout=30) == 0
        assert not is_mounted(mp)
        assert "unmounted" in open(log).read(), "lines after SIGHUP went elsewhere"
    finally:
        notifications.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_without_notify_socket_nothing_changes_and_a_bad_one_is_only_a_warning(mounter, env, source, tmp_path):
    mp = mounter.mountpoint()
    log = str(tmp_path / "daemon.log")
    proc = start_foreground(env, source, mp, log, str(tmp_path / "nobody-listens.sock"))
    try:
        assert wait_until(lambda: is_mounted(mp) or proc.poll() is not None, 30) and proc.poll() is None
        assert wait_until(lambda: "cannot notify systemd" in open(log).read(), 10), open(log).read()
        assert os.listdir(mp) == ["hello.txt"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_template_unit_passes_systemd_analyze_verify(env, tmp_path):
    with open(os.path.join(ROOT, "packaging", "systemd", "s3mount@.service")) as f:
        unit = f.read().replace("/usr/bin/s3mount", env.binary)  # the built binary: the package is not installed
    path = tmp_path / "s3mount@test.service"
    path.write_text(unit)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(path)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr
