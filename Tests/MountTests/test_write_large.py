"""Large sequential files through a read-write mount (issue 8): 1 GiB and 5 GiB with dd, 200 MiB of small writes
then fsync (what torch.save does), parts streamed before close, and the unmount drain. Checked in S3 by the
sha256 of a GET.

Each test prints one `write-large:` line with its timings (`pytest -s` shows them).
"""

from __future__ import annotations

import hashlib
import os
import random
import time

import pytest

from conftest import GiB, KiB, MiB, det_bytes, wait_until
from writes import (assert_object, assert_object_sha, dd_stream, det_stream_bytes, head, keys_under,
                    multipart_uploads, rw, uploaded_part_bytes, wkey, write_all)  # noqa: F401 - fixtures


def test_dd_1gib_with_fsync(rw, s3, env):
    m = rw()
    key = m.key("dd-1g.bin")
    sha, dd_s = dd_stream(m.p("dd-1g.bin"), "dd/1g", GiB, "conv=fsync")
    # dd's fsync returned before dd exited: the object is in S3 now, no waiting
    h = head(s3, env.bucket, key)
    assert h is not None, "dd conv=fsync returned but the object is not in S3"
    assert os.stat(m.p("dd-1g.bin")).st_size == GiB
    t0 = time.monotonic()
    assert_object_sha(s3, env.bucket, key, GiB, sha)
    print(f"write-large: dd 1 GiB conv=fsync {dd_s:.1f}s ({GiB / MiB / dd_s:.0f} MiB/s to S3), "
          f"GET+sha256 {time.monotonic() - t0:.1f}s")


def test_dd_5gib_then_unmount_drains(rw, s3, env):
    size = 5 * GiB
    m = rw("--drain-timeout", "600")
    key = m.key("dd-5g.bin")
    sha, dd_s = dd_stream(m.p("dd-5g.bin"), "dd/5g", size)
    assert os.stat(m.p("dd-5g.bin")).st_size == size
    drain_s = m.unmount_drained(timeout=600)
    t0 = time.monotonic()
    assert_object_sha(s3, env.bucket, key, size, sha)
    assert multipart_uploads(s3, env.bucket, m.key_prefix) == []
    print(f"write-large: dd 5 GiB {dd_s:.1f}s ({size / MiB / dd_s:.0f} MiB/s), unmount drain {drain_s:.1f}s "
          f"(to S3 overall {size / MiB / (dd_s + drain_s):.0f} MiB/s), GET+sha256 {time.monotonic() - t0:.1f}s")


def test_many_small_writes_then_fsync(rw, s3, env):
    """200 MiB in writes of 4 KiB to 64 KiB, straight to the fd (no buffering), then fsync."""
    size = 200 * MiB
    data = det_stream_bytes("small-writes", size)
    rng = random.Random("small-writes")
    m = rw()
    key = m.key("checkpoint.pt")
    t0 = time.monotonic()
    writes = 0
    fd = os.open(m.p("checkpoint.pt"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        off = 0
        while off < size:
            n = min(rng.randrange(4 * KiB, 64 * KiB + 1), size - off)
            write_all(fd, data[off: off + n])
            off += n
            writes += 1
        t_written = time.monotonic()
        os.fsync(fd)
        t_synced = time.monotonic()
        assert head(s3, env.bucket, key) is not None, "fsync returned but the object is not in S3"
    finally:
        os.close(fd)
    assert_object_sha(s3, env.bucket, key, size, hashlib.sha256(data).hexdigest())
    print(f"write-large: {writes} writes of 4-64 KiB (200 MiB) {t_written - t0:.1f}s, "
          f"fsync {t_synced - t_written:.1f}s")


@pytest.mark.parametrize("how", ["fusermount", "sigterm"])
def test_unmount_drains_pending_uploads(rw, s3, env, how):
    """Files written and closed (no fsync), then at once unmounted: all of them are in S3 once the daemon exits."""
    rng = random.Random(f"drain/{how}")
    files = {f"small/{i:02d}.bin": det_bytes(f"drain/{how}/{i}", rng.randrange(1, 3 * MiB)) for i in range(24)}
    big = det_stream_bytes(f"drain/{how}/big", 256 * MiB + 3)
    m = rw("--drain-timeout", "300")
    os.mkdir(m.p("small"))
    for name, data in files.items():
        with open(m.p(name), "wb") as f:
            f.write(data)
    with open(m.p("big.bin"), "wb") as f:
        f.write(big)
    pending_big = head(s3, env.bucket, m.key("big.bin")) is None
    drain_s = m.unmount_drained(timeout=300, how=how)
    for name, data in files.items():
        assert_object(s3, env.bucket, m.key(name), data)
    assert_object_sha(s3, env.bucket, m.key("big.bin"), len(big), hashlib.sha256(big).hexdigest())
    want = {m.key(n) for n in files} | {m.key("big.bin"), m.key("small/")}  # small/: the mkdir's marker
    assert set(keys_under(s3, env.bucket, m.key_prefix)) == want
    assert multipart_uploads(s3, env.bucket, m.key_prefix) == []
    print(f"write-large: unmount ({how}) drained in {drain_s:.1f}s; big.bin was "
          f"{'still pending' if pending_big else 'already in S3'} at the unmount")


def test_sequential_writes_stream_parts_before_close(rw, s3, env):
    """A new file written sequentially sends its parts while it is still open (by close only the tail is left)."""
    size = 64 * MiB + 5
    data = det_stream_bytes("streaming", size)
    m = rw()
    key = m.key("stream.bin")
    fd = os.open(m.p("stream.bin"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        write_all(fd, data)
        # still open: parts of it are in S3 already (bounded poll; the object itself is not there yet)
        assert wait_until(lambda: uploaded_part_bytes(s3, env.bucket, key) >= 32 * MiB, 30, interval=0.1), (
            f"only {uploaded_part_bytes(s3, env.bucket, key) // MiB} MiB of parts uploaded 30 s after 64 MiB were "
            f"written to a file still open" + m.log_tail())
        assert head(s3, env.bucket, key) is None, "the object is complete in S3 while its file is still open"
    finally:
        os.close(fd)
    m.unmount_drained()
    assert_object_sha(s3, env.bucket, key, size, hashlib.sha256(data).hexdigest())
