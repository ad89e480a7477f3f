"""Mount and unmount: daemon mode returns only when the mount is live, foreground mode and SIGTERM, fusermount3 -u
ends the daemon, -o option lists, ownership and permission options."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess

import pytest

from conftest import (describe_exit, expect_errno, is_mounted, live_daemons, mount_fstype,
                      mountinfo, put_many, wait_until, zombie_exit_status)

FILES = {"life/hello.txt": b"hello from s3\n", "life/sub/deeper.txt": b"deeper\n"}


@pytest.fixture(scope="module")
def life(s3, env, prefix):
    put_many(s3, env.bucket, {prefix + k: v for k, v in FILES.items()})
    return f"{env.bucket}:{prefix}life"


def mount_options(path: str) -> set[str]:
    """The per-mount and superblock options of the mount at path."""
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.rstrip("\n").partition(" - ")
            if left.split(" ")[4] == path:
                return set(left.split(" ")[5].split(",")) | set(right.split(" ")[2].split(","))
    return set()


@pytest.mark.parametrize("attempt", range(5))
def test_daemon_mode_returns_when_live(mounter, env, life, attempt):
    m = mounter.mount(life)  # asserts exit 0 and a fuse.s3mount entry in /proc/self/mountinfo
    # no waiting at all: the mount answers the moment s3mount has returned (an empty listing would be the
    # directory underneath, not yet covered by the mount)
    assert sorted(os.listdir(m.path)) == ["hello.txt", "sub"]
    with open(m.p("hello.txt"), "rb") as f:
        assert f.read() == FILES["life/hello.txt"]
    assert (m.path, "fuse.s3mount") in mountinfo()
    assert len(live_daemons(m.path)) == 1


def test_foreground_mode_and_sigterm(mounter, env, life, tmp_path):
    mp = mounter.mountpoint()
    log = tmp_path / "fg.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([env.binary, "--foreground", "--endpoint", env.endpoint, life, mp],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                env=env.child_env())
    try:
        appeared = wait_until(lambda: is_mounted(mp) or proc.poll() is not None, 30)
        assert appeared and proc.poll() is None, (
            f"foreground s3mount exited {proc.returncode} before mounting: {log.read_text()!r}")
        assert mount_fstype(mp) == "fuse.s3mount"
        assert sorted(os.listdir(mp)) == ["hello.txt", "sub"]
        with open(os.path.join(mp, "sub", "deeper.txt"), "rb") as f:
            assert f.read() == FILES["life/sub/deeper.txt"]
        assert live_daemons(mp) == [proc.pid], "foreground mode must not fork a daemon"

        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
        assert rc == 0, f"foreground s3mount exited {rc} on SIGTERM: {log.read_text()!r}"
        assert not is_mounted(mp), "SIGTERM: the process exited but left the mount"
        assert live_daemons(mp) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_fusermount_u_ends_the_daemon(mounter, env, life):
    m = mounter.mount(life)
    pids = live_daemons(m.path)
    assert len(pids) == 1, f"want one daemon for {m.path}, found {pids}"
    r = subprocess.run(["fusermount3", "-u", m.path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert not is_mounted(m.path)
    assert wait_until(lambda: not live_daemons(m.path), 20), f"daemon {pids} still running after fusermount3 -u"
    status = zombie_exit_status(pids[0])
    if status is not None:  # an unreaped zombie: its exit status is readable
        assert describe_exit(status) is None, f"daemon {pids[0]} {describe_exit(status)} after fusermount3 -u"


def test_sigterm_to_daemon_unmounts(mounter, env, life):
    m = mounter.mount(life)
    pids = live_daemons(m.path)
    assert len(pids) == 1
    os.kill(pids[0], signal.SIGTERM)
    assert wait_until(lambda: not live_daemons(m.path), 20), "daemon still running 20 s after SIGTERM"
    assert not is_mounted(m.path), "the daemon exited on SIGTERM but left the mount"
    status = zombie_exit_status(pids[0])
    if status is not None:
        assert describe_exit(status) is None, f"daemon {pids[0]} {describe_exit(status)} on SIGTERM"


def test_o_option_list(mounter, env, life):
    mp = mounter.mountpoint()
    r = mounter.run(["-o", f"ro,endpoint={env.endpoint},file_mode=0600", life, mp])
    assert r.returncode == 0, f"-o form: exit {r.returncode}: {r.stderr.strip()}"
    assert mount_fstype(mp) == "fuse.s3mount"
    st = os.stat(os.path.join(mp, "hello.txt"))
    assert stat.S_ISREG(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert stat.S_IMODE(os.stat(os.path.join(mp, "sub")).st_mode) == 0o755  # dirs keep the default
    assert "ro" in mount_options(mp), f"-o ro: mount options {mount_options(mp)}"
    expect_errno(errno.EROFS, open, os.path.join(mp, "x"), "wb")
    with open(os.path.join(mp, "hello.txt"), "rb") as f:
        assert f.read() == FILES["life/hello.txt"]


def test_o_option_list_glued_and_repeated(mounter, env, life):
    mp = mounter.mountpoint()
    r = mounter.run([f"-oendpoint={env.endpoint}", "-o", "uid=4321,dir_mode=0700,nodev,noatime", life, mp])
    assert r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()}"
    st = os.stat(os.path.join(mp, "sub"))
    assert st.st_uid == 4321 and stat.S_IMODE(st.st_mode) == 0o700


def test_uid_gid_and_modes(mounter, env, life):
    m = mounter.mount(life, "--uid", "1234", "--gid", "5678", "--file-mode", "0640", "--dir-mode", "0750")
    for path, kind, mode in [(m.p("hello.txt"), stat.S_ISREG, 0o640), (m.p("sub", "deeper.txt"), stat.S_ISREG, 0o640),
                             (m.p("sub"), stat.S_ISDIR, 0o750), (m.path, stat.S_ISDIR, 0o750)]:
        st = os.stat(path)
        assert kind(st.st_mode), path
        assert (st.st_uid, st.st_gid) == (1234, 5678), f"{path}: uid/gid {st.st_uid}/{st.st_gid}"
        assert stat.S_IMODE(st.st_mode) == mode, f"{path}: mode {oct(stat.S_IMODE(st.st_mode))}, want {oct(mode)}"
    # root reads regardless of the modes; the bytes are right
    with open(m.p("hello.txt"), "rb") as f:
        assert f.read() == FILES["life/hello.txt"]


def test_defaults_are_caller_and_0644_0755(mounter, env, life):
    m = mounter.mount(life)
    st = os.stat(m.p("hello.txt"))
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())
    assert stat.S_IMODE(st.st_mode) == 0o644 and st.st_size == len(FILES["life/hello.txt"])
    assert stat.S_IMODE(os.stat(m.p("sub")).st_mode) == 0o755


def test_a_fatal_signal_leaves_its_reason_in_the_log(mounter, env, life, tmp_path):
    log = tmp_path / "daemon.log"
    m = mounter.mount(life, "--log-file", str(log))
    (pid,) = live_daemons(m.path)
    os.kill(pid, signal.SIGSEGV)
    assert wait_until(lambda: not live_daemons(m.path), 30), "daemon still running 30 s after SIGSEGV"
    lines = [line for line in log.read_text().splitlines() if "crashed" in line]
    assert len(lines) == 1, f"want one crash line in the log, got {lines}"
    assert "signal 11 (SIGSEGV" in lines[0] and "critical" in lines[0], lines[0]
    subprocess.run(["fusermount3", "-uz", m.path], check=False)
    assert wait_until(lambda: not is_mounted(m.path), 10), "the dead mount could not be taken away"
