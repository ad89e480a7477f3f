"""A read-only mount (--read-only, -o ro) refuses every write with EROFS, and the bucket is left unchanged."""

from __future__ import annotations

import errno
import os

import pytest

from conftest import expect_errno, list_keys, put_many

FILES = {"ro/file.txt": b"do not touch me\n", "ro/dir/inner.txt": b"nor me\n", "ro/emptydir/": b""}


@pytest.fixture(scope="module")
def ro_data(s3, env, prefix):
    put_many(s3, env.bucket, {prefix + k: v for k, v in FILES.items()})
    return FILES


@pytest.mark.parametrize("options", [["--read-only"], ["-o", "ro"]], ids=["read-only", "o-ro"])
def test_writes_refused_with_erofs(mounter, s3, env, prefix, ro_data, options):
    before = list_keys(s3, env.bucket, prefix + "ro/")
    assert set(before) == {prefix + k for k in FILES}
    m = mounter.mount(f"{env.bucket}:{prefix}ro", *options)
    f, d = m.p("file.txt"), m.p("dir")

    expect_errno(errno.EROFS, open, m.p("new.txt"), "wb")  # create
    expect_errno(errno.EROFS, os.open, m.p("new2.txt"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    expect_errno(errno.EROFS, os.mkdir, m.p("newdir"))
    expect_errno(errno.EROFS, os.mkdir, os.path.join(d, "newdir"))
    expect_errno(errno.EROFS, os.unlink, f)
    expect_errno(errno.EROFS, os.rmdir, m.p("emptydir"))
    expect_errno(errno.EROFS, os.rename, f, m.p("renamed.txt"))
    expect_errno(errno.EROFS, os.rename, d, m.p("renamed-dir"))
    expect_errno(errno.EROFS, os.truncate, f, 0)
    expect_errno(errno.EROFS, os.open, f, os.O_WRONLY)
    expect_errno(errno.EROFS, os.open, f, os.O_RDWR)
    expect_errno(errno.EROFS, os.open, f, os.O_RDONLY | os.O_TRUNC)
    expect_errno(errno.EROFS, open, f, "ab")
    expect_errno(errno.EROFS, os.symlink, "file.txt", m.p("link"))
    expect_errno(errno.EROFS, os.link, f, m.p("hardlink"))
    expect_errno(errno.EROFS, os.chmod, f, 0o600)

    # nothing changed, in the mount or in the bucket
    assert sorted(os.listdir(m.p())) == ["dir", "emptydir", "file.txt"]
    with open(f, "rb") as fh:
        assert fh.read() == FILES["ro/file.txt"]
    assert list_keys(s3, env.bucket, prefix + "ro/") == before
