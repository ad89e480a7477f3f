"""--allow-other does what README ("Sharing a mount with other users") and docs/SEMANTICS.md say: without it no
other user enters the mount; with it the permission bits decide, so the default modes let every local user read
every object and not write, and --file-mode 0640 --dir-mode 0750 keep them out. The other user is `nobody`
(65534), run with /bin/cat and /usr/bin/touch; the bytes it reads are compared by sha256."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile

import pytest

NOBODY = 65534


def as_nobody(*argv: str) -> subprocess.CompletedProcess:
    def drop():
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    return subprocess.run(list(argv), preexec_fn=drop, capture_output=True, timeout=60)


def open_mountpoint() -> str:
    """A mountpoint that `nobody` can reach (the session's mount base is root's private tmp). The mounter that
    mounts on it unmounts it and removes the directory."""
    path = tempfile.mkdtemp(prefix="s3mount-allow-other-", dir="/tmp")
    os.chmod(path, 0o755)
    return path


@pytest.fixture(scope="module")
def shared(s3, env, prefix):
    body = os.urandom(100_003)
    s3.put_object(Bucket=env.bucket, Key=f"{prefix}allow-other/data.bin", Body=body)
    return f"{env.bucket}:{prefix}allow-other", hashlib.sha256(body).hexdigest()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
@pytest.mark.parametrize("options,reads", [
    ([], False),
    (["--allow-other"], True),
    (["--allow-other", "--file-mode", "0640", "--dir-mode", "0750"], False),
], ids=["without", "allow-other", "allow-other-0640-0750"])
def test_what_another_user_can_do(mounter, shared, options, reads):
    spec, digest = shared
    m = mounter.mount(spec, *options, mountpoint=open_mountpoint())
    with open(m.p("data.bin"), "rb") as f:  # the mounting user always reads
        assert hashlib.sha256(f.read()).hexdigest() == digest
    r = as_nobody("/bin/cat", m.p("data.bin"))
    if reads:
        assert r.returncode == 0, r.stderr
        assert hashlib.sha256(r.stdout).hexdigest() == digest
    else:
        assert r.returncode != 0 and b"Permission denied" in r.stderr, (r.returncode, r.stderr)
    w = as_nobody("/usr/bin/touch", m.p("by-nobody.txt"))
    assert w.returncode != 0 and b"Permission denied" in w.stderr, (w.returncode, w.stderr)
    assert not os.path.exists(m.p("by-nobody.txt"))
