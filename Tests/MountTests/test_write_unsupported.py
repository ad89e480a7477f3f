"""What a read-write mount cannot do, and the errno it answers with (issue 8): chmod/chown that change anything
(EPERM; the same values succeed), utimes/touch (succeed), symlink, hard link, mknod of a FIFO or device (EPERM),
setxattr (ENOTSUP), fallocate (EOPNOTSUPP), names over 255 bytes and keys over 1024 bytes (ENAMETOOLONG).
Nothing of it may reach the bucket."""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import subprocess

import pytest

from conftest import KiB, MiB, det_bytes, expect_errno
from writes import (assert_object, get_bytes, keys_under, read_uncached, rw, wkey,
                    write_all)  # noqa: F401 - rw, wkey are fixtures

EXISTING = b"an object written by another client\n"


@pytest.fixture
def existing(s3, env, wkey) -> bytes:
    s3.put_object(Bucket=env.bucket, Key=wkey + "existing.txt", Body=EXISTING)
    return EXISTING


def test_chmod_and_chown_only_to_the_same_values(rw, s3, env, existing):
    m = rw()
    with open(m.p("new.txt"), "wb") as f:
        f.write(b"new\n")
    os.mkdir(m.p("dir"))
    for path in (m.p("existing.txt"), m.p("new.txt"), m.p("dir")):
        st = os.stat(path)
        mode = stat.S_IMODE(st.st_mode)
        os.chmod(path, mode)  # no change: fine
        os.chown(path, st.st_uid, st.st_gid)
        os.chown(path, -1, -1)
        expect_errno(errno.EPERM, os.chmod, path, 0o600 if mode != 0o600 else 0o640)
        expect_errno(errno.EPERM, os.chmod, path, mode | 0o4000)  # setuid
        expect_errno(errno.EPERM, os.chown, path, st.st_uid + 1, -1)
        expect_errno(errno.EPERM, os.chown, path, -1, st.st_gid + 1)
        after = os.stat(path)
        assert (after.st_mode, after.st_uid, after.st_gid) == (st.st_mode, st.st_uid, st.st_gid), path
    fd = os.open(m.p("new.txt"), os.O_RDWR)
    try:
        expect_errno(errno.EPERM, os.fchmod, fd, 0o600)
    finally:
        os.close(fd)
    m.unmount_drained()
    assert get_bytes(s3, env.bucket, m.key("existing.txt")) == existing
    assert get_bytes(s3, env.bucket, m.key("new.txt")) == b"new\n"


def test_utimes_and_touch_succeed(rw, s3, env, existing):
    m = rw()
    os.utime(m.p("existing.txt"), (1_500_000_000, 1_500_000_000))
    r = subprocess.run(["touch", m.p("existing.txt")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"touch of an existing file: {r.stderr.strip()}"
    assert read_uncached(m.p("existing.txt")) == existing

    r = subprocess.run(["touch", m.p("touched.txt")], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, f"touch of a new name: {r.stderr.strip()}"
    assert os.stat(m.p("touched.txt")).st_size == 0

    # a file not uploaded yet (still open) keeps the mtime it is given, locally
    fd = os.open(m.p("open.bin"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        write_all(fd, det_bytes("utimes/open", 64 * KiB))
        os.utime(m.p("open.bin"), (1_600_000_000, 1_600_000_000))
        assert os.stat(m.p("open.bin")).st_mtime == 1_600_000_000
        os.utime(fd, ns=(1_600_000_001_000_000_000, 1_600_000_001_000_000_000))
        assert os.fstat(fd).st_mtime == 1_600_000_001
    finally:
        os.close(fd)

    m.unmount_drained()
    assert get_bytes(s3, env.bucket, m.key("existing.txt")) == existing, "touch changed the object's bytes"
    assert_object(s3, env.bucket, m.key("touched.txt"), b"", "touch of a new name")
    assert_object(s3, env.bucket, m.key("open.bin"), det_bytes("utimes/open", 64 * KiB))


def test_symlink_link_and_mknod_are_refused_with_eperm(rw, s3, env, existing):
    m = rw()
    expect_errno(errno.EPERM, os.symlink, "existing.txt", m.p("symlink"))
    expect_errno(errno.EPERM, os.link, m.p("existing.txt"), m.p("hardlink"))
    expect_errno(errno.EPERM, os.mkfifo, m.p("fifo"))
    expect_errno(errno.EPERM, os.mknod, m.p("chardev"), 0o644 | stat.S_IFCHR, os.makedev(1, 3))
    expect_errno(errno.EPERM, os.mknod, m.p("blockdev"), 0o644 | stat.S_IFBLK, os.makedev(7, 0))
    assert os.listdir(m.path) == ["existing.txt"]
    m.unmount_drained()
    assert set(keys_under(s3, env.bucket, m.key_prefix)) == {m.key("existing.txt")}


def test_setxattr_is_refused_with_enotsup(rw, s3, env, existing):
    m = rw()
    os.mkdir(m.p("dir"))
    with open(m.p("new.txt"), "wb") as f:
        f.write(b"new\n")
    for path in (m.p("existing.txt"), m.p("new.txt"), m.p("dir")):
        expect_errno(errno.ENOTSUP, os.setxattr, path, "user.s3mount-test", b"value")
    m.unmount_drained()
    assert get_bytes(s3, env.bucket, m.key("existing.txt")) == existing


def _fallocate(fd: int, mode: int, offset: int, length: int) -> int:
    """fallocate(2) itself (os.posix_fallocate would fall back to writing zeros); returns 0 or the errno."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    libc.fallocate.restype = ctypes.c_int
    return 0 if libc.fallocate(fd, mode, offset, length) == 0 else ctypes.get_errno()


def test_fallocate_is_refused_with_eopnotsupp(rw, s3, env, existing):
    m = rw()
    falloc_fl_keep_size, falloc_fl_punch_hole = 0x01, 0x02
    for path, flags in ((m.p("new.bin"), os.O_CREAT | os.O_EXCL | os.O_RDWR), (m.p("existing.txt"), os.O_RDWR)):
        fd = os.open(path, flags, 0o644)
        try:
            for mode in (0, falloc_fl_keep_size, falloc_fl_keep_size | falloc_fl_punch_hole):
                code = _fallocate(fd, mode, 0, MiB)
                assert code == errno.EOPNOTSUPP, (
                    f"fallocate(mode={mode}) on {os.path.basename(path)}: want EOPNOTSUPP, got "
                    f"{errno.errorcode.get(code, code) if code else 'success'}")
        finally:
            os.close(fd)
    assert os.stat(m.p("existing.txt")).st_size == len(existing)
    m.unmount_drained()
    assert get_bytes(s3, env.bucket, m.key("existing.txt")) == existing


def test_names_over_255_bytes_and_keys_over_1024_bytes(rw, s3, env, wkey):
    m = rw()
    expect_errno(errno.ENAMETOOLONG, open, m.p("N" * 256), "wb")
    expect_errno(errno.ENAMETOOLONG, os.mkdir, m.p("D" * 256))
    expect_errno(errno.ENAMETOOLONG, os.mkdir, m.p("é" * 128))  # 256 bytes of UTF-8 in 128 characters
    with open(m.p("S" * 255), "wb") as f:  # exactly NAME_MAX
        f.write(b"255")

    # directories of 200-byte names until a file name of 1..255 bytes reaches a key of exactly 1024 bytes
    base = len(wkey.encode())
    parts: list[str] = []
    while 1024 - base - sum(len(p) + 1 for p in parts) > 255:
        parts.append(chr(ord("a") + len(parts)) * 200)
    for i in range(len(parts)):
        os.mkdir(m.p(*parts[: i + 1]))
    used = base + sum(len(p) + 1 for p in parts)
    room = 1024 - used  # bytes left for the last name
    assert 2 <= room <= 255
    at_limit = os.path.join(*parts, "k" * room)
    assert len((wkey + at_limit).encode()) == 1024
    with open(m.p(at_limit), "wb") as f:
        f.write(b"key of 1024 bytes")
    expect_errno(errno.ENAMETOOLONG, open, m.p(*parts, "k" * (room + 1)), "wb")
    # a directory's key is its marker `name/`: one byte more
    os.mkdir(m.p(*parts, "d" * (room - 1)))
    expect_errno(errno.ENAMETOOLONG, os.mkdir, m.p(*parts, "d" * room))
    expect_errno(errno.ENAMETOOLONG, os.rename, m.p("S" * 255), m.p(*parts, "r" * (room + 1)))

    m.unmount_drained()
    keys = keys_under(s3, env.bucket, wkey)
    assert max(len(k.encode()) for k in keys) == 1024
    assert_object(s3, env.bucket, wkey + at_limit, b"key of 1024 bytes", "the 1024-byte key")
    assert_object(s3, env.bucket, wkey + "S" * 255, b"255", "the 255-byte name")
    assert wkey + os.path.join(*parts, "d" * (room - 1)) + "/" in keys
