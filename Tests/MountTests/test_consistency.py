"""An object replaced by another client while a file is open: the open file keeps reading the version it opened
or fails with ESTALE; it never mixes bytes of two versions. A new open after the metadata TTL sees the new one.

docs/SEMANTICS.md: bytes of the opened version that s3mount already holds (its read-ahead of the first blocks)
may still be served; any read that has to go to S3 fails with ESTALE."""

from __future__ import annotations

import errno
import hashlib
import os

import pytest

from conftest import MiB, KiB, det_bytes

SIZE = 64 * MiB
# Beyond what read-ahead after a 4 KiB read at offset 0 can have fetched (the kernel's and s3mount's windows).
FAR = 32 * MiB


@pytest.fixture(scope="module")
def m(module_mounter, env, prefix):
    # metadata TTL 0: every lookup and getattr asks S3, so a new open sees a replaced object at once
    return module_mounter.mount(f"{env.bucket}:{prefix}", "--metadata-ttl", "0")


@pytest.mark.parametrize("new_size", [SIZE, 5 * MiB, 20 * MiB], ids=["same-size", "smaller", "larger"])
def test_replaced_while_open_fails_with_estale(m, s3, env, prefix, new_size):
    rel = f"replace/{new_size}.bin"
    key = prefix + rel
    old = det_bytes(f"replace-old/{new_size}", SIZE)
    new = det_bytes(f"replace-new/{new_size}", new_size)
    assert old[:4096] != new[:4096]
    s3.put_object(Bucket=env.bucket, Key=key, Body=old)
    path = m.p(*rel.split("/"))

    fd = os.open(path, os.O_RDONLY)
    try:
        # read the beginning with readahead off, so the page cache holds only the start of the old version
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        assert os.fstat(fd).st_size == SIZE
        assert os.pread(fd, 4 * KiB, 0) == old[: 4 * KiB]

        s3.put_object(Bucket=env.bucket, Key=key, Body=new)
        assert s3.head_object(Bucket=env.bucket, Key=key)["ContentLength"] == new_size

        # near what was read: the old version's bytes (already read ahead) or ESTALE, never the new version's
        for offset, length in [(4 * KiB, 4 * KiB), (1 * MiB + 7, 4 * KiB)]:
            try:
                got = os.pread(fd, length, offset)
            except OSError as e:
                assert e.errno == errno.ESTALE, f"pread({offset}): errno {errno.errorcode.get(e.errno, e.errno)}"
                continue
            assert got == old[offset: offset + length], f"pread({offset}, {length}): not the opened version's bytes"

        # offsets far beyond anything read or read ahead: these must reach S3, and the version changed
        for offset, length in [(FAR + 12 * MiB, 64 * KiB), (FAR + 8 * MiB + 12345, 4 * KiB), (SIZE - 4 * KiB, 4 * KiB)]:
            try:
                got = os.pread(fd, length, offset)
            except OSError as e:
                assert e.errno == errno.ESTALE, (
                    f"pread({offset}, {length}) after the object was replaced: errno "
                    f"{errno.errorcode.get(e.errno, e.errno)}, want ESTALE")
                continue
            new_part = new[offset: offset + length]
            assert not (got and got == new_part), (
                f"pread({offset}, {length}) returned bytes of the NEW object through a handle opened on the old one")
            pytest.fail(f"pread({offset}, {length}) after the object was replaced returned {len(got)} bytes "
                        f"({'old version' if got == old[offset: offset + length] else 'neither version'}), "
                        "want ESTALE")
    finally:
        os.close(fd)

    # a new open (metadata TTL 0) reads the new version, exactly
    assert os.stat(path).st_size == new_size
    with open(path, "rb", buffering=0) as f:
        data = f.read()
    assert len(data) == new_size
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(new).hexdigest(), "new open: bytes differ from the new object"
