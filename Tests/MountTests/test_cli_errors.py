"""Bad input: s3mount exits quickly with the documented exit code and one line naming the problem and its fix,
and mounts nothing."""

from __future__ import annotations

import os
import re
import socket
import time

import pytest

from conftest import Mounter, is_mounted, live_daemons, mountinfo

QUICK = 15.0  # seconds: every bad input must be reported faster than this
ERROR_LINE = re.compile(r"^s3mount: error: .+: .+$")


def check_failure(r, elapsed: float, code: int, substrings: list[str], bound: float = QUICK,
                  one_line: bool | None = None):
    out = r.stderr
    assert r.returncode == code, f"exit {r.returncode}, want {code}; stderr: {out!r}"
    for s in substrings:
        if isinstance(s, tuple):  # any of
            assert any(x.lower() in out.lower() for x in s), f"stderr lacks any of {s}: {out!r}"
        else:
            assert s in out, f"stderr lacks {s!r}: {out!r}"
    assert elapsed < bound, f"took {elapsed:.1f}s, want < {bound}s"
    if one_line if one_line is not None else code == 1:
        lines = [ln for ln in out.splitlines() if ln.strip()]
        assert len(lines) == 1, f"want exactly one line on stderr, got {len(lines)}: {out!r}"
        assert ERROR_LINE.match(lines[0]), f"not 's3mount: error: <problem>: <fix>': {lines[0]!r}"


def check_nothing_mounted(mp: str):
    assert not is_mounted(mp), f"{mp} got mounted by a failed s3mount"
    assert live_daemons(mp) == [], f"a failed s3mount left a daemon for {mp}"
    if os.path.isdir(mp):
        assert os.listdir(mp) == []


def run_timed(mounter: Mounter, args: list[str], env=None, timeout: float = 60):
    t0 = time.monotonic()
    r = mounter.run(args, env=env, timeout=timeout)
    return r, time.monotonic() - t0


# ---------------------------------------------------------------------------------------------------------------


def test_missing_mountpoint(mounter, env, mount_base):
    mp = os.path.join(mount_base, "does-not-exist-" + str(os.getpid()))
    r, t = run_timed(mounter, ["--endpoint", env.endpoint, env.bucket, mp])
    check_failure(r, t, 1, [f"mountpoint {mp} does not exist", f"mkdir -p {mp}"])
    assert not os.path.exists(mp), "s3mount created the missing mountpoint"
    assert live_daemons(mp) == []


def test_mountpoint_not_a_directory(mounter, env, mount_base, tmp_path):
    f = tmp_path / "a-file"
    f.write_text("x")
    r, t = run_timed(mounter, ["--endpoint", env.endpoint, env.bucket, str(f)])
    check_failure(r, t, 1, [f"mountpoint {f} is not a directory", "give an empty directory"])
    assert not is_mounted(str(f)) and f.read_text() == "x"
    assert live_daemons(str(f)) == []


def test_mountpoint_already_mounted(mounter, s3, env, prefix):
    s3.put_object(Bucket=env.bucket, Key=f"{prefix}cli/already.txt", Body=b"already mounted\n")
    first = mounter.mount(f"{env.bucket}:{prefix}cli")
    daemons = live_daemons(first.path)
    assert len(daemons) == 1
    r, t = run_timed(mounter, ["--endpoint", env.endpoint, f"{env.bucket}:{prefix}", first.path])
    check_failure(r, t, 1, [f"mountpoint {first.path} is already a mount point (fuse.s3mount)", "unmount it first"])
    # the first mount is untouched: still one mount, one daemon, and it works
    assert [t for p, t in mountinfo() if p == first.path] == ["fuse.s3mount"], "want exactly one mount there"
    assert live_daemons(first.path) == daemons
    assert os.listdir(first.path) == ["already.txt"]
    with open(first.p("already.txt"), "rb") as f:
        assert f.read() == b"already mounted\n"


@pytest.mark.parametrize("allow", [["--nonempty"], ["-o", "nonempty"]], ids=["--nonempty", "-o nonempty"])
def test_nonempty_mountpoint(mounter, s3, env, prefix, allow):
    """libfuse3 mounts over a directory's files without a word; s3mount refuses unless told, and the files are
    there again (untouched) after an allowed mount is gone."""
    s3.put_object(Bucket=env.bucket, Key=f"{prefix}cli-nonempty/in-s3.txt", Body=b"from s3\n")
    mp = mounter.mountpoint()
    with open(os.path.join(mp, ".local-file"), "wb") as f:
        f.write(b"local\n")
    r, t = run_timed(mounter, ["--endpoint", env.endpoint, f"{env.bucket}:{prefix}cli-nonempty", mp])
    check_failure(r, t, 1, [f"mountpoint {mp} is not empty (1 entry: '.local-file')",
                            "give an empty directory, or --nonempty (-o nonempty) to mount over them"])
    assert not is_mounted(mp) and live_daemons(mp) == []
    m = mounter.mount(f"{env.bucket}:{prefix}cli-nonempty", *allow, mountpoint=mp)
    assert os.listdir(m.path) == ["in-s3.txt"], "the mount does not hide the directory's own files"
    m.unmount()
    assert m.problems == []
    with open(os.path.join(mp, ".local-file"), "rb") as f:
        assert f.read() == b"local\n"
    os.unlink(os.path.join(mp, ".local-file"))


def test_missing_bucket(mounter, env):
    mp = mounter.mountpoint()
    r, t = run_timed(mounter, ["--endpoint", env.endpoint, "nosuchbucket-mt", mp])
    check_failure(r, t, 1, [f"bucket 'nosuchbucket-mt' does not exist at {env.endpoint}",
                            "check the bucket name, --endpoint and --region"])
    check_nothing_mounted(mp)


@pytest.mark.parametrize("which,code", [("secret", "SignatureDoesNotMatch"), ("key", "InvalidAccessKeyId")])
def test_wrong_credentials(mounter, env, which, code):
    mp = mounter.mountpoint()
    bad = env.child_env(**({"AWS_SECRET_ACCESS_KEY": "wrong-secret"} if which == "secret"
                           else {"AWS_ACCESS_KEY_ID": "NOSUCHACCESSKEY"}))
    r, t = run_timed(mounter, ["--endpoint", env.endpoint, env.bucket, mp], env=bad)
    check_failure(r, t, 1, [f"access denied to bucket '{env.bucket}' at {env.endpoint} ({code})",
                            "check the credentials"])
    check_nothing_mounted(mp)


def test_connection_refused(mounter, env):
    # a port nobody listens on: bind one, then close it
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp = mounter.mountpoint()
    url = f"http://127.0.0.1:{port}"
    r, t = run_timed(mounter, ["--endpoint", url, env.bucket, mp])
    check_failure(r, t, 1, [f"cannot connect to {url}: connection refused", "check --endpoint"])
    check_nothing_mounted(mp)


def test_hung_endpoint(mounter, env):
    """A server that accepts TCP connections (the kernel completes the handshake) but never reads or answers."""
    stall = 2
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(64)
        url = f"http://127.0.0.1:{srv.getsockname()[1]}"
        mp = mounter.mountpoint()
        r, t = run_timed(mounter, ["--endpoint", url, "--stall-timeout", str(stall), "--connect-timeout", "2",
                                   env.bucket, mp])
    check_failure(r, t, 1, ["did not answer in time", "stall timeout"], bound=stall + 8)
    check_nothing_mounted(mp)


def test_unresolvable_host(mounter, env):
    mp = mounter.mountpoint()
    r, t = run_timed(mounter, ["--endpoint", "http://no-such-host.invalid:7480", env.bucket, mp])
    # with no working resolver the error may say "connect" instead of "resolve"
    check_failure(r, t, 1, [("resolve", "connect"), "no-such-host.invalid"])
    check_nothing_mounted(mp)


@pytest.mark.parametrize("args,substrings", [
    (["--file-mode", "999"], ["--file-mode", "octal", "999"]),
    (["--dir-mode", "0o9"], ["--dir-mode", "octal", "0o9"]),
    (["-o", "file_mode=888"], ["--file-mode", "octal", "888"]),
    (["-o", "bogus"], ["Unknown option", "bogus"]),
    (["--endpoint", "ftp://x"], ["--endpoint", "http", "ftp://x"]),
    (["--metadata-ttl", "-1"], ["--metadata-ttl"]),
    (["--metadata-ttl=-1"], ["--metadata-ttl", "-1"]),
    (["--max-connections", "0"], ["--max-connections", "0"]),
], ids=["file-mode-999", "dir-mode-bad", "o-file-mode-888", "o-bogus", "endpoint-ftp", "metadata-ttl-neg",
        "metadata-ttl-eq-neg", "max-connections-0"])
def test_bad_option_values(mounter, env, args, substrings):
    mp = mounter.mountpoint()
    full = [*args] if "--endpoint" in args else ["--endpoint", env.endpoint, *args]
    r, t = run_timed(mounter, [*full, env.bucket, mp])
    check_failure(r, t, 64, [], one_line=False)
    first = r.stderr.splitlines()[0] if r.stderr else ""
    assert first.startswith("s3mount: error: "), f"usage error not reported as 's3mount: error: ...': {r.stderr!r}"
    for s in substrings:
        assert s in first, f"the error line lacks {s!r}: {first!r}"
    check_nothing_mounted(mp)
