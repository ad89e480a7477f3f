"""Helpers for the write-path tests (test_write_*.py): read-write mounts with their own staging dir and log,
deterministic data streams, and checks of what actually reached S3 (always through boto3, byte for byte).

The fixtures defined here (`wkey`, `rw`) are imported by the test modules that use them.

Waiting for "durable" follows the write contract: fsync() on the fd (the object is in S3 when it returns), or an
unmount (the daemon drains its uploads before it exits), or a bounded HeadObject poll that checks a condition.
Nothing here sleeps in place of a synchronisation.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import os
import re
import struct
import subprocess
import time
import uuid
from dataclasses import dataclass

import pytest

from conftest import (MOUNT_TIMEOUT, Env, MiB, Mount, Mounter, abort_multipart_uploads, delete_prefix, describe_exit,
                      det_bytes, is_mounted, live_daemons, mount_fstype, unmount, wait_until, zombie_exit_status)

DRAIN_DEADLINE = 120  # bound for a daemon to upload what is pending and exit after an unmount (small files)


# ----------------------------------------------------------------------------------------------------------------
# keys


@pytest.fixture
def wkey(request, s3, env, prefix) -> str:
    """This test's own key prefix under the session prefix: `<session>/w/<test name>-<6 hex>/`. Emptied after the
    test (multipart uploads aborted too): these tests write GiBs, and the testbed's OSD is small, so space is given
    back as soon as possible rather than at the end of the session."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:48]
    key = f"{prefix}w/{slug}-{uuid.uuid4().hex[:6]}/"
    yield key
    abort_multipart_uploads(s3, env.bucket, key)
    delete_prefix(s3, env.bucket, key)


# ----------------------------------------------------------------------------------------------------------------
# read-write mounts


@dataclass
class RW:
    """A read-write mount of BUCKET:<key_prefix> with its staging root (--cache-dir) and log file (--log-file)."""
    mount: Mount
    env: Env
    key_prefix: str  # ends with '/': the key of mount-relative path `a/b` is key_prefix + 'a/b'
    cache_dir: str
    log: str

    @property
    def path(self) -> str:
        return self.mount.path

    def p(self, *parts: str) -> str:
        return os.path.join(self.mount.path, *parts)

    def key(self, rel: str) -> str:
        return self.key_prefix + rel

    def pid(self) -> int:
        pids = live_daemons(self.path)
        assert len(pids) == 1, f"want one s3mount daemon for {self.path}, found {pids}"
        return pids[0]

    def log_text(self) -> str:
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 25) -> str:
        tail = self.log_text().splitlines()[-lines:]
        return "\n  s3mount log (last lines):\n    " + "\n    ".join(tail) if tail else "\n  (s3mount log is empty)"

    def unmount_drained(self, timeout: float = DRAIN_DEADLINE, how: str = "fusermount") -> float:
        """Unmount (fusermount3 -u, or SIGTERM to the daemon), then wait up to timeout seconds for the daemon
        to finish its uploads and exit. Fails the test if it does not exit, or exits other than cleanly.
        Returns the seconds from the unmount to the daemon's exit."""
        pid = self.pid()
        t0 = time.monotonic()
        if how == "fusermount":
            r = subprocess.run(["fusermount3", "-u", self.path], capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, f"fusermount3 -u {self.path}: {r.stderr.strip()}"
        elif how == "sigterm":
            os.kill(pid, 15)
        else:
            raise ValueError(how)
        exited = wait_until(lambda: not live_daemons(self.path), timeout, interval=0.1)
        elapsed = time.monotonic() - t0
        assert exited, (f"s3mount {pid} still running {timeout:.0f}s after the unmount ({how}): the drain did "
                        f"not finish" + self.log_tail())
        assert wait_until(lambda: not is_mounted(self.path), 10), f"{self.path} still mounted after {how}"
        status = zombie_exit_status(pid)
        if status is not None:
            assert describe_exit(status) is None, f"s3mount {pid} {describe_exit(status)} after {how}" + \
                                                  self.log_tail()
        return elapsed


def mount_rw(mounter: Mounter, env: Env, key_prefix: str, cache_dir: str, log: str, *options: str,
             timeout: float = MOUNT_TIMEOUT) -> RW:
    """Mount BUCKET:<key_prefix> read-write (daemon mode) with --cache-dir and --log-file; fail the test unless
    s3mount exits 0 with a live mount. Unmounted by the mounter's teardown (drains; the daemon must exit)."""
    assert key_prefix.endswith("/")
    os.makedirs(cache_dir, exist_ok=True)
    path = mounter.mountpoint()
    args = ["--cache-dir", cache_dir, "--log-file", log, "--log-level", "info", *options,
            "--endpoint", env.endpoint, f"{env.bucket}:{key_prefix.rstrip('/')}", path]
    r = mounter.run(args, timeout=timeout)
    m = Mount(path, args, r)
    assert r.returncode == 0, f"s3mount {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}"
    assert mount_fstype(path) == "fuse.s3mount", f"s3mount exited 0 but {path} is not a fuse.s3mount mount"
    return RW(m, env, key_prefix, cache_dir, log)


@pytest.fixture
def rw(wkey, mounter, env, tmp_path):
    """Factory: rw(*options, cache_dir=..., key_prefix=..., timeout=...) -> RW. Defaults: this test's key prefix
    and one staging root per test (tmp_path/cache); each mount logs to its own tmp_path/s3mount-N.log.
    (wkey comes first: set up before the mounter, it is torn down after the mounts are gone.)"""
    count = [0]

    def make(*options: str, cache_dir: str | None = None, key_prefix: str | None = None,
             timeout: float = MOUNT_TIMEOUT) -> RW:
        count[0] += 1
        return mount_rw(mounter, env, key_prefix or wkey, cache_dir or str(tmp_path / "cache"),
                        str(tmp_path / f"s3mount-{count[0]}.log"), *options, timeout=timeout)

    return make


def kill9_and_unmount(m: RW, pid: int | None = None) -> int:
    """SIGKILL the daemon of m (pid: known already), wait for it to die, and take the dead mount away."""
    pid = pid or m.pid()
    os.kill(pid, 9)
    assert wait_until(lambda: not live_daemons(m.path), 10), f"s3mount {pid} survived SIGKILL"
    unmount(m.path)
    assert not is_mounted(m.path), f"{m.path}: the dead mount could not be unmounted"
    return pid


# ----------------------------------------------------------------------------------------------------------------
# staging dir (contract: DIR/writeback/<bucket-id>/data/ and DIR/writeback/<bucket-id>/journal)


def staging_data_dirs(cache_dir: str) -> list[str]:
    return sorted(glob.glob(os.path.join(cache_dir, "writeback", "*", "data")))


def staging_files(cache_dir: str) -> list[str]:
    """Every file (any depth) under DIR/writeback/*/data/."""
    out = []
    for d in staging_data_dirs(cache_dir):
        for root, _dirs, files in os.walk(d):
            out += [os.path.join(root, f) for f in files]
    return sorted(out)


def staging_bytes(cache_dir: str) -> int:
    total = 0
    for f in staging_files(cache_dir):
        with contextlib.suppress(OSError):
            total += os.stat(f).st_blocks * 512
    return total


def journal_paths(cache_dir: str) -> list[str]:
    return sorted(glob.glob(os.path.join(cache_dir, "writeback", "*", "journal")))


# ----------------------------------------------------------------------------------------------------------------
# deterministic data, fast enough for GiBs (det_bytes makes ~300 MiB/s; this ~2 GiB/s)
#
# The stream is made of 1 MiB blocks; block i of seed s is a 24-byte header (sha of s, i) followed by a slice of a
# fixed 5 MiB pseudo-random base at an offset that depends on (s, i). Every block of every stream is different,
# so a part uploaded twice, dropped, or put in the wrong place changes the sha256.

_BLOCK = MiB


@functools.lru_cache(maxsize=1)
def _base() -> bytes:
    return det_bytes("writes/stream-base", 5 * MiB)


def _block(seed_digest: bytes, seed_int: int, i: int) -> bytes:
    off = (seed_int + i * 1_000_003) % (4 * MiB)
    header = seed_digest[:16] + struct.pack("<Q", i)
    return header + _base()[off: off + _BLOCK - len(header)]


def det_stream(seed: str, size: int, chunk: int = 8 * MiB):
    """Yield `size` deterministic bytes of stream `seed` in chunks of `chunk` bytes (a multiple of 1 MiB)."""
    assert chunk % _BLOCK == 0
    digest = hashlib.sha256(seed.encode()).digest()
    seed_int = int.from_bytes(digest[16:24], "little")
    done = 0
    block = 0
    per = chunk // _BLOCK
    while done < size:
        n = min(chunk, size - done)
        parts = [_block(digest, seed_int, block + j) for j in range((n + _BLOCK - 1) // _BLOCK)]
        block += per
        data = b"".join(parts)[:n]
        yield data
        done += n


def det_stream_bytes(seed: str, size: int) -> bytes:
    return b"".join(det_stream(seed, size))


def write_stream_fd(fd: int, seed: str, size: int, chunk: int = 8 * MiB) -> str:
    """os.write the stream to fd (handling short writes); return its sha256."""
    h = hashlib.sha256()
    for data in det_stream(seed, size, chunk):
        h.update(data)
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
    return h.hexdigest()


def dd_stream(path: str, seed: str, size: int, *dd_args: str, bs: str = "8M") -> tuple[str, float]:
    """Feed the stream to `dd of=path bs=... iflag=fullblock <dd_args>` through a pipe. Returns (sha256 of what
    was fed, seconds dd took). Fails the test if dd does not exit 0."""
    h = hashlib.sha256()
    t0 = time.monotonic()
    with open(os.devnull, "wb") as devnull:
        p = subprocess.Popen(["dd", f"of={path}", f"bs={bs}", "iflag=fullblock", "status=none", *dd_args],
                             stdin=subprocess.PIPE, stdout=devnull, stderr=subprocess.PIPE)
    fed = 0
    try:
        try:
            for data in det_stream(seed, size):
                h.update(data)
                p.stdin.write(data)
                fed += len(data)
            p.stdin.close()
        except BrokenPipeError:  # dd gave up: its exit status and message say why
            pass
        err = p.stderr.read().decode("utf-8", "replace")
        rc = p.wait(timeout=600)
    except BaseException:
        p.kill()
        p.wait()
        raise
    assert rc == 0 and fed == size, f"dd of={path} {' '.join(dd_args)} exited {rc} after {fed} of {size} " \
                                    f"bytes: {err.strip()}"
    return h.hexdigest(), time.monotonic() - t0


# ----------------------------------------------------------------------------------------------------------------
# what S3 has (boto3 only)


def head(s3, bucket: str, key: str) -> dict | None:
    """HeadObject, or None for 404."""
    from botocore.exceptions import ClientError

    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def get_bytes(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def get_sha256(s3, bucket: str, key: str) -> tuple[int, str]:
    """(size, sha256) of the object's bytes, streamed."""
    h = hashlib.sha256()
    n = 0
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    for chunk in body.iter_chunks(8 * MiB):
        h.update(chunk)
        n += len(chunk)
    return n, h.hexdigest()


def first_difference(a: bytes, b: bytes) -> int | None:
    n = min(len(a), len(b))
    if a[:n] != b[:n]:
        lo, hi = 0, n  # binary search on prefixes (fast: slices compare with memcmp)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if a[:mid] == b[:mid]:
                lo = mid
            else:
                hi = mid
        return lo  # a[:lo] == b[:lo] and a[:lo + 1] != b[:lo + 1]
    return None if len(a) == len(b) else n


def assert_object(s3, bucket: str, key: str, want: bytes, what: str = "") -> None:
    """The object exists in S3 and its bytes are exactly `want`."""
    h = head(s3, bucket, key)
    assert h is not None, f"{what or key}: no object {key} in S3"
    got = get_bytes(s3, bucket, key)
    if got != want:
        at = first_difference(got, want)
        pytest.fail(f"{what or key}: S3 has {len(got)} bytes (sha256 {hashlib.sha256(got).hexdigest()[:16]}), "
                    f"want {len(want)} (sha256 {hashlib.sha256(want).hexdigest()[:16]}); first difference at "
                    f"offset {at}", pytrace=False)


def assert_object_sha(s3, bucket: str, key: str, size: int, sha256: str, what: str = "") -> None:
    h = head(s3, bucket, key)
    assert h is not None, f"{what or key}: no object {key} in S3"
    assert h["ContentLength"] == size, f"{what or key}: S3 size {h['ContentLength']}, want {size}"
    n, digest = get_sha256(s3, bucket, key)
    assert (n, digest) == (size, sha256), f"{what or key}: S3 GET gave {n} bytes sha256 {digest}, want {size} " \
                                          f"{sha256}"


def assert_absent(s3, bucket: str, key: str, what: str = "") -> None:
    h = head(s3, bucket, key)
    assert h is None, f"{what or key}: object {key} exists in S3 ({h['ContentLength']} bytes), want none"


def wait_durable(s3, bucket: str, key: str, timeout: float, size: int | None = None) -> dict | None:
    """Poll HeadObject (bounded by timeout seconds) until the object exists (with `size` bytes if given).
    Returns the HEAD answer, or None if the deadline passed first."""
    found: list[dict] = []

    def ready() -> bool:
        h = head(s3, bucket, key)
        if h is not None and (size is None or h["ContentLength"] == size):
            found[:] = [h]
            return True
        return False

    return found[0] if wait_until(ready, timeout, interval=0.25) else None


def keys_under(s3, bucket: str, prefix: str) -> dict[str, int]:
    """key -> size of every object under prefix."""
    out: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = obj["Size"]
    return out


def multipart_uploads(s3, bucket: str, prefix: str) -> list[dict]:
    """The multipart uploads in progress under prefix (Key, UploadId, Initiated)."""
    out = []
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
        out += page.get("Uploads", [])
    return out


def uploaded_part_bytes(s3, bucket: str, key: str) -> int:
    """Bytes in the parts uploaded so far by the multipart uploads in progress for exactly this key."""
    total = 0
    for u in multipart_uploads(s3, bucket, key):
        if u["Key"] != key:
            continue
        for page in s3.get_paginator("list_parts").paginate(Bucket=bucket, Key=key, UploadId=u["UploadId"]):
            total += sum(p["Size"] for p in page.get("Parts", []))
    return total


# ----------------------------------------------------------------------------------------------------------------
# a local model of a file's bytes


class Model:
    """The bytes a file should hold after a sequence of POSIX operations."""

    def __init__(self, data: bytes = b""):
        self.buf = bytearray(data)

    def pwrite(self, offset: int, data: bytes) -> None:
        end = offset + len(data)
        if end > len(self.buf):
            self.buf.extend(b"\0" * (end - len(self.buf)))
        self.buf[offset:end] = data

    def truncate(self, size: int) -> None:
        if size < len(self.buf):
            del self.buf[size:]
        else:
            self.buf.extend(b"\0" * (size - len(self.buf)))

    def bytes(self) -> bytes:
        return bytes(self.buf)

    def __len__(self) -> int:
        return len(self.buf)


def pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_uncached(path: str) -> bytes:
    """The file's bytes through the mount, after asking the kernel to drop its cached pages of it."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        chunks = []
        while chunk := os.read(fd, 4 * MiB):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)

