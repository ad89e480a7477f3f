"""Crash safety (issue 8): kill -9 of the daemon right after close() of a 1 GiB file, and in the middle of its
upload. Mounting again with the same --cache-dir resumes the upload; within 180 s the object is in S3 with the
right sha256, the staging data dir is empty, and no multipart upload is left under the test's prefix. And an
unmount whose drain runs out of --drain-timeout leaves its uploads journalled for the next mount.

Each test prints one `write-crash:` line with its timings (`pytest -s` shows them).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time

import pytest

from conftest import GiB, MiB, wait_until
from writes import (assert_object_sha, det_stream_bytes, head, journal_paths, kill9_and_unmount, multipart_uploads,
                    read_uncached, rw, staging_files, uploaded_part_bytes, wait_durable, wkey,
                    write_stream_fd)  # noqa: F401 - rw, wkey are fixtures

RESUME_BOUND = 180.0


@pytest.mark.parametrize("when", ["after-close", "mid-upload"])
def test_kill9_then_remount_resumes_the_upload(rw, s3, env, wkey, tmp_path, when):
    cache = str(tmp_path / "cache")
    # mid-upload: the upload is held to 32 MiB/s so that it is still running when the daemon is killed
    m = rw(*(["--upload-bandwidth", "32M"] if when == "mid-upload" else []), cache_dir=cache)
    key = m.key("big.bin")
    pid = m.pid()
    t0 = time.monotonic()
    fd = os.open(m.p("big.bin"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        sha = write_stream_fd(fd, f"crash/{when}", GiB)
    finally:
        os.close(fd)
    written_s = time.monotonic() - t0
    if when == "mid-upload":
        assert wait_until(lambda: uploaded_part_bytes(s3, env.bucket, key) >= 16 * MiB, 60, interval=0.2), (
            "no 16 MiB of parts uploaded within 60 s of close" + m.log_tail())
    kill9_and_unmount(m, pid)
    uploaded = uploaded_part_bytes(s3, env.bucket, key)
    assert head(s3, env.bucket, key) is None, (
        "the 1 GiB object was complete in S3 when the daemon was killed: the kill did not interrupt its upload "
        "(writeback close() must return before the upload is done)")
    assert staging_files(cache), f"nothing under {cache}/writeback/*/data after the kill (the staged file is lost)"
    assert journal_paths(cache), f"no journal at {cache}/writeback/*/journal after the kill"

    t1 = time.monotonic()
    m2 = rw(cache_dir=cache, timeout=RESUME_BOUND)
    mount_s = time.monotonic() - t1
    h = wait_durable(s3, env.bucket, key, max(0.0, RESUME_BOUND - mount_s), size=GiB)
    resumed_s = time.monotonic() - t1
    assert h is not None, f"big.bin not in S3 {RESUME_BOUND:.0f}s after mounting again" + m2.log_tail()
    assert_object_sha(s3, env.bucket, key, GiB, sha, "the resumed upload")
    assert wait_until(lambda: not staging_files(cache), 30), (
        f"staging data still there 30 s after the upload completed: {staging_files(cache)[:5]}" + m2.log_tail())
    assert wait_until(lambda: not multipart_uploads(s3, env.bucket, wkey), 30), (
        f"multipart uploads left under {wkey}: {multipart_uploads(s3, env.bucket, wkey)}")
    assert os.stat(m2.p("big.bin")).st_size == GiB
    m2.unmount_drained()
    print(f"write-crash: {when}: wrote 1 GiB in {written_s:.1f}s, killed with {uploaded // MiB} MiB of parts "
          f"uploaded; mount again took {mount_s:.1f}s, object in S3 {resumed_s:.1f}s after mounting again")



def _unmount_with_uploads_left(rw, s3, env, cache: str, data: bytes) -> None:
    """Write `data` to slow.bin on a mount whose uploads go at 1 MiB/s in 5 MiB parts, unmount with a drain of 1 s:
    the daemon exits (cleanly) with the upload unfinished, says so in the log, and leaves it staged."""
    m = rw("--upload-bandwidth", "1M", "--part-size", "5M", "--drain-timeout", "1", cache_dir=cache)
    with open(m.p("slow.bin"), "wb") as f:
        f.write(data)
    log_before = len(m.log_text().splitlines())
    exit_s = m.unmount_drained(timeout=30)  # the daemon must exit 0 within the bound
    assert head(s3, env.bucket, m.key("slow.bin")) is None, (
        f"slow.bin is in S3 although its upload needs ~20 s and the drain was given 1 s (daemon exited after "
        f"{exit_s:.1f}s)")
    said = [line for line in m.log_text().splitlines()[log_before:]
            if (" warning " in line or " error " in line or " notice " in line)
            and ("journal" in line.lower() or "staged" in line.lower())]
    assert said, "the log does not say that uploads were left staged/journalled at exit" + m.log_tail()
    assert staging_files(cache), f"nothing staged under {cache} after an unfinished drain"


def _next_mount_uploads(rw, s3, env, cache: str, data: bytes, *options: str) -> None:
    # no bandwidth limit now; a short drain so that a failing upload does not hold up teardown
    m2 = rw("--drain-timeout", "10", *options, cache_dir=cache)
    key = m2.key("slow.bin")
    assert wait_durable(s3, env.bucket, key, 30) is not None, \
        "slow.bin not uploaded within 30 s by the next mount" + m2.log_tail()
    assert_object_sha(s3, env.bucket, key, len(data), hashlib.sha256(data).hexdigest(), "the resumed upload")
    assert read_uncached(m2.p("slow.bin")) == data
    m2.unmount_drained()
    assert not staging_files(cache), f"staging data left after the upload: {staging_files(cache)[:5]}"
    assert multipart_uploads(s3, env.bucket, m2.key_prefix) == []


def test_drain_timeout_leaves_uploads_journalled_for_the_next_mount(rw, s3, env, tmp_path):
    """An unmount whose uploads outlast --drain-timeout: the daemon exits anyway (cleanly), says so in the log, and
    the next mount with the same --cache-dir (and the same --part-size) uploads what was left."""
    cache = str(tmp_path / "cache")
    data = det_stream_bytes("drain-timeout", 24 * MiB + 7)
    _unmount_with_uploads_left(rw, s3, env, cache, data)
    _next_mount_uploads(rw, s3, env, cache, data, "--part-size", "5M")


@pytest.mark.parametrize("next_part_size", ["8M", "16M"])
def test_resume_under_another_part_size_uploads_the_right_bytes(rw, s3, env, tmp_path, next_part_size):
    """The same, but the next mount has another --part-size (the default, or larger) than the one that began the
    multipart upload. Not in the contract's words; a user may change options between mounts, and the bytes in S3
    must still be the file's."""
    cache = str(tmp_path / "cache")
    data = det_stream_bytes(f"part-size-change/{next_part_size}", 24 * MiB + 7)
    _unmount_with_uploads_left(rw, s3, env, cache, data)
    _next_mount_uploads(rw, s3, env, cache, data, "--part-size", next_part_size)


def test_kill9_while_a_file_is_open_drops_it_and_leaves_no_parts(rw, s3, env, wkey, tmp_path):
    """A file still being written when the daemon dies was never acknowledged (no close, no fsync): the next mount
    drops it, and aborts the multipart upload its streamed parts went to, so nothing of it is left in the bucket.
    A file closed before the kill, on the same mount, is uploaded."""
    cache = str(tmp_path / "cache")
    m = rw("--upload-bandwidth", "32M", cache_dir=cache)
    pid = m.pid()
    done = det_stream_bytes("kill-open/done", 3 * MiB)
    with open(m.p("done.bin"), "wb") as f:
        f.write(done)
    fd = os.open(m.p("open.bin"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        write_stream_fd(fd, "kill-open/open", 64 * MiB)
        assert wait_until(lambda: uploaded_part_bytes(s3, env.bucket, m.key("open.bin")) >= 8 * MiB, 30,
                          interval=0.1), "no part of the open file was streamed within 30 s" + m.log_tail()
        kill9_and_unmount(m, pid)
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)  # the mount is gone: ENOTCONN or the like
    m2 = rw(cache_dir=cache)
    assert wait_durable(s3, env.bucket, m2.key("done.bin"), 60) is not None, "done.bin not uploaded" + m2.log_tail()
    assert_object_sha(s3, env.bucket, m2.key("done.bin"), len(done), hashlib.sha256(done).hexdigest())
    assert wait_until(lambda: not multipart_uploads(s3, env.bucket, wkey), 30), (
        f"multipart uploads left under {wkey}: {multipart_uploads(s3, env.bucket, wkey)}" + m2.log_tail())
    assert head(s3, env.bucket, m2.key("open.bin")) is None, "a file never closed nor fsync'd was uploaded"
    assert sorted(os.listdir(m2.path)) == ["done.bin"]
    assert wait_until(lambda: not staging_files(cache), 30), f"staging data left: {staging_files(cache)[:5]}"
