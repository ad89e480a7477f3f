"""A full staging disk (issue 8): with --cache-dir on a 64 MiB tmpfs, writing 128 MiB gets ENOSPC from write();
the files closed before are intact and uploaded, and the daemon stays alive and serving."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest

from conftest import MiB, det_bytes, live_daemons, wait_until
from writes import (assert_object, det_stream, read_uncached, rw, wkey,
                    write_all)  # noqa: F401 - rw, wkey are fixtures


def free_bytes(path: str) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


@pytest.fixture
def small_staging(tmp_path):
    """A 64 MiB tmpfs under the test's tmp dir. Listed before `rw` in a test's arguments, so the s3mount using it
    is unmounted first; unmounted lazily if something still holds it."""
    path = tmp_path / "staging-tmpfs"
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", str(path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"mount -t tmpfs: {r.stderr.strip()}"
    try:
        yield str(path)
    finally:
        r = subprocess.run(["umount", str(path)], capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, text=True, timeout=30)


def test_full_staging_dir_gives_enospc(small_staging, rw, s3, env):
    m = rw(cache_dir=os.path.join(small_staging, "cache"))
    pid = m.pid()
    early = {"a.bin": det_bytes("enospc/a", 4 * MiB), "b.bin": det_bytes("enospc/b", 4 * MiB + 1)}
    for name, data in early.items():
        with open(m.p(name), "wb") as f:
            f.write(data)

    written, err, close_err = 0, None, None
    fd = os.open(m.p("big.bin"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        for chunk in det_stream("enospc/big", 128 * MiB, chunk=MiB):
            try:
                write_all(fd, chunk)
            except OSError as e:
                err = e
                break
            written += len(chunk)
    finally:
        try:
            os.close(fd)
        except OSError as e:
            close_err = e
    print(f"write-enospc: write() failed after {written // MiB} MiB with {err!r}; close: {close_err!r}")
    assert err is not None, (f"128 MiB written into a 64 MiB staging dir without an error from write() "
                             f"(close gave {close_err!r})" + m.log_tail())
    assert err.errno == errno.ENOSPC, f"write() failed with {err!r}, want ENOSPC"
    assert written <= 64 * MiB

    # the daemon is alive and serving; the earlier files are intact
    assert live_daemons(m.path) == [pid], "the daemon died on a full staging dir"
    assert sorted(os.listdir(m.path)) == ["a.bin", "b.bin", "big.bin"]
    for name, data in early.items():
        assert read_uncached(m.p(name)) == data, f"{name} after ENOSPC"
    # once the failed file is gone (and its staged bytes with it: bounded wait), writing works again
    os.unlink(m.p("big.bin"))
    assert wait_until(lambda: free_bytes(small_staging) >= 16 * MiB, 30), (
        f"the staging tmpfs still has only {free_bytes(small_staging) // MiB} MiB free 30 s after the file that "
        f"filled it was removed" + m.log_tail())
    after = det_bytes("enospc/after", MiB)
    with open(m.p("after.bin"), "wb") as f:
        f.write(after)
        f.flush()
        os.fsync(f.fileno())

    m.unmount_drained()
    for name, data in early.items():
        assert_object(s3, env.bucket, m.key(name), data, f"{name}, closed before the staging dir filled up")
    assert_object(s3, env.bucket, m.key("after.bin"), after, "a file written after the failed one was removed")
