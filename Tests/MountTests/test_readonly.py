"""A read-only mount (--read-only, -o ro) refuses every write with EROFS, and the bucket is left unchanged. It
answers no open (FUSE's no_open): the kernel sends no open, flush or release for files, keeps each file's pages
across opens, and a new version in S3 is read whole, under a new inode, once the metadata TTL has passed."""

from __future__ import annotations

import errno
import mmap
import os
import time

import pytest

from conftest import det_bytes, expect_errno, list_keys, put_many, wait_until
from faults import free_port
from observe import Scrape

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


def operations(port: int, name: str) -> float:
    return Scrape(port).value("s3mount_fuse_operation_duration_seconds_count", operation=name)


def test_a_read_only_mount_is_sent_no_opens_and_keeps_pages_across_them(mounter, s3, env, prefix):
    files = {f"ro-noopen/f{i:02d}.bin": det_bytes(f"ro-noopen/{i}", 20_000 + 997 * i) for i in range(24)}
    put_many(s3, env.bucket, {prefix + k: v for k, v in files.items()})
    port = free_port()
    m = mounter.mount(f"{env.bucket}:{prefix}ro-noopen", "--read-only", "--metrics-address", f"127.0.0.1:{port}")
    names = sorted(os.listdir(m.p()))
    assert names == [k.split("/")[1] for k in sorted(files)]
    for name in names:
        with open(m.p(name), "rb") as f:
            assert f.read() == files[f"ro-noopen/{name}"], name
    reads_after_first_pass = operations(port, "read")
    for name in names:
        with open(m.p(name), "rb") as f:
            assert f.read() == files[f"ro-noopen/{name}"], name
    # O_DIRECT bypasses the page cache: its reads reach the daemon, through a handle of their own, right bytes.
    fd = os.open(m.p(names[3]), os.O_RDONLY | os.O_DIRECT)
    try:
        buffer = mmap.mmap(-1, 8192)
        assert os.preadv(fd, [buffer], 4096) == 8192
        assert bytes(buffer) == files[f"ro-noopen/{names[3]}"][4096:4096 + 8192]
    finally:
        os.close(fd)
    assert operations(port, "open") <= 1, "the kernel kept sending opens: no_open was not taken"
    assert operations(port, "flush") <= 1, "the kernel kept sending flushes"
    assert reads_after_first_pass >= len(names)
    assert operations(port, "read") - reads_after_first_pass <= 2, "the second pass was not served from the page cache"


def test_an_object_replaced_in_s3_is_read_whole_in_its_new_version_after_the_ttl(mounter, s3, env, prefix):
    key = prefix + "ro-replaced/same-size.bin"
    old, new = det_bytes("ro-replaced/v1", 96 * 1024), det_bytes("ro-replaced/v2", 96 * 1024)
    s3.put_object(Bucket=env.bucket, Key=key, Body=old)
    m = mounter.mount(f"{env.bucket}:{prefix}ro-replaced", "--read-only", "--metadata-ttl", "1")
    with open(m.p("same-size.bin"), "rb") as f:
        assert f.read() == old  # every page of the old version is now in the page cache
    s3.put_object(Bucket=env.bucket, Key=key, Body=new)

    def reads_new() -> bool:
        with open(m.p("same-size.bin"), "rb") as f:
            data = f.read()
        assert data in (old, new), "a read mixed the two versions"
        return data == new

    assert wait_until(reads_new, 15, interval=0.1), "the new version never showed after the 1 s TTL"
    assert all(reads_new() for _ in range(5)), "the old version came back"
    m.unmount()
    assert m.problems == []


def test_names_from_a_listing_are_leased_past_the_ttl_and_changes_are_still_taken_back(mounter, s3, env, prefix):
    """On a read-only mount the kernel keeps the names of a listed directory past the TTL (a lease): a second pass
    after the TTL sends no lookup. s3mount lists the directory again every TTL meanwhile and takes back each name
    whose object changed or went, so a replaced object reads in its new version and a deleted one is gone."""
    files = {f"ro-lease/f{i:02d}.bin": det_bytes(f"ro-lease/{i}", 10_000 + 331 * i) for i in range(30)}
    put_many(s3, env.bucket, {prefix + k: v for k, v in files.items()})
    port = free_port()
    m = mounter.mount(
        f"{env.bucket}:{prefix}ro-lease", "--read-only", "--metadata-ttl", "1", "--metadata-lease", "60",
        "--metrics-address", f"127.0.0.1:{port}")
    names = sorted(os.listdir(m.p()))  # a complete listing: lookups of its names are answered with leases
    assert names == [k.split("/")[1] for k in sorted(files)]

    def read_all() -> None:
        for name in names:
            with open(m.p(name), "rb") as f:
                assert f.read() == files[f"ro-lease/{name}"], name

    read_all()
    first_pass_done = time.monotonic()
    lookups = operations(port, "lookup")
    lists = Scrape(port).value("s3mount_s3_requests_total", operation="list", status="2xx")
    # The TTL runs out; the daemon lists the directory again to keep its leases (what the kernel does not ask).
    assert wait_until(
        lambda: time.monotonic() - first_pass_done > 1.5
        and Scrape(port).value("s3mount_s3_requests_total", operation="list", status="2xx") > lists, 15
    ), "the leased directory was never listed again"
    read_all()
    assert operations(port, "lookup") == lookups, "the second pass after the TTL still sent lookups"

    replaced, deleted = "f03.bin", "f04.bin"
    new = det_bytes("ro-lease/new", 4_321)
    s3.put_object(Bucket=env.bucket, Key=f"{prefix}ro-lease/{replaced}", Body=new)
    s3.delete_object(Bucket=env.bucket, Key=f"{prefix}ro-lease/{deleted}")
    changed_at = time.monotonic()

    def reads_new() -> bool:
        with open(m.p(replaced), "rb") as f:
            data = f.read()
        assert data in (files[f"ro-lease/{replaced}"], new), "a read mixed the two versions"
        return data == new

    assert wait_until(reads_new, 10, interval=0.05), "the replaced object never showed: its lease was not taken back"
    assert wait_until(lambda: not os.path.exists(m.p(deleted)), 10, interval=0.05), "the deleted object stayed"
    took = time.monotonic() - changed_at
    assert took < 5, f"changes showed {took:.1f} s after they were made, with a 1 s TTL and a 60 s lease"
    assert os.path.getsize(m.p(replaced)) == len(new)
    with open(m.p(names[0]), "rb") as f:  # names that did not change keep their bytes
        assert f.read() == files[f"ro-lease/{names[0]}"]
    m.unmount()
    assert m.problems == []
