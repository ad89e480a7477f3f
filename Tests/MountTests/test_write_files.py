"""Writing files through a read-write mount (issue 8): create and sequential writes, random-offset writes (new
files and existing objects), overwrite of a range, append, truncate, writes past the end, two fds on one file,
concurrent writers, rename (before close, after close, of an object in S3), unlink (also of an open file),
read-your-writes, fsync, sync mode, read-only mounts.

Every result is checked through the S3 API (boto3), byte for byte, against a local model of the operations.
"Durable" is waited for the way the contract offers: fsync() on the fd, or an unmount (which drains).
"""

from __future__ import annotations

import concurrent.futures
import errno
import hashlib
import os
import random
import threading
import time

import pytest

from conftest import KiB, MiB, det_bytes, expect_errno, put_many
from writes import (Model, assert_object, det_stream_bytes, get_sha256, head, keys_under, multipart_uploads,
                    pwrite_all, read_uncached, rw, wkey, write_all)  # noqa: F401 - rw, wkey are fixtures

SEQ_SIZES = {"empty": 0, "one": 1, "4k": 4 * KiB, "1m1": MiB + 1, "17m3": 17 * MiB + 3}


def _create(path: str, mode: int = os.O_RDWR) -> int:
    return os.open(path, os.O_CREAT | os.O_EXCL | mode, 0o644)


# ----------------------------------------------------------------------------------------------------------------
# create, sequential


@pytest.mark.parametrize("name", list(SEQ_SIZES))
def test_create_and_write_sequentially(rw, s3, env, name):
    size = SEQ_SIZES[name]
    data = det_bytes(f"seq/{name}", size)
    m = rw()
    with open(m.p(f"{name}.bin"), "wb") as f:
        for off in range(0, size, MiB):
            f.write(data[off: off + MiB])
    assert os.stat(m.p(f"{name}.bin")).st_size == size
    assert f"{name}.bin" in os.listdir(m.path)
    m.unmount_drained()
    assert_object(s3, env.bucket, m.key(f"{name}.bin"), data)
    assert set(keys_under(s3, env.bucket, m.key_prefix)) == {m.key(f"{name}.bin")}


# ----------------------------------------------------------------------------------------------------------------
# fsync, sync mode


@pytest.mark.parametrize("target", ["new", "existing"])
def test_fsync_returns_once_the_object_is_in_s3(rw, s3, env, wkey, target):
    key = wkey + "f.bin"
    if target == "existing":
        model = Model(det_bytes("fsync/existing", 2 * MiB + 9))
        s3.put_object(Bucket=env.bucket, Key=key, Body=model.bytes())
    else:
        model = Model()
    m = rw()
    flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if target == "new" else 0)
    fd = os.open(m.p("f.bin"), flags, 0o644)
    try:
        a = det_bytes("fsync/a", 3 * MiB + 5)
        pwrite_all(fd, a, 0)
        model.pwrite(0, a)
        os.fsync(fd)
        # no waiting of any kind: fsync has returned, so another client sees these bytes now
        assert_object(s3, env.bucket, key, model.bytes(), "right after the first fsync")
        b = det_bytes("fsync/b", 100 * KiB)
        pwrite_all(fd, b, MiB + 3)
        model.pwrite(MiB + 3, b)
        os.fsync(fd)
        assert_object(s3, env.bucket, key, model.bytes(), "right after the second fsync (file still open)")
    finally:
        os.close(fd)


def test_sync_mode_close_returns_once_the_object_is_in_s3(rw, s3, env, wkey):
    old = det_bytes("syncmode/old", 3 * MiB)
    s3.put_object(Bucket=env.bucket, Key=wkey + "old.bin", Body=old)
    m = rw("--write-mode", "sync")

    data = det_bytes("syncmode/new", 20 * MiB + 11)
    with open(m.p("new.bin"), "wb") as f:
        f.write(data)
    assert_object(s3, env.bucket, m.key("new.bin"), data, "sync mode, right after close of a new file")

    model = Model(old)
    patch = det_bytes("syncmode/patch", 70 * KiB)
    with open(m.p("old.bin"), "r+b") as f:
        f.seek(MiB + 1)
        f.write(patch)
    model.pwrite(MiB + 1, patch)
    assert_object(s3, env.bucket, m.key("old.bin"), model.bytes(), "sync mode, right after close of an overwrite")

    with open(m.p("empty.bin"), "wb"):
        pass
    assert_object(s3, env.bucket, m.key("empty.bin"), b"", "sync mode, right after close of an empty new file")


# ----------------------------------------------------------------------------------------------------------------
# random offsets, overwrite, append, truncate, past the end


def _random_writes(fd: int, model: Model, rng: random.Random, count: int, span: int) -> None:
    for i in range(count):
        off = rng.randrange(0, span)
        n = rng.choice([1, 7, 512, 4096, 4097, 65536, 131073, rng.randrange(1, 300 * KiB)])
        data = rng.randbytes(n)
        pwrite_all(fd, data, off)
        model.pwrite(off, data)
        if i % 20 == 0:  # the fd reads its own writes, and its size follows
            assert os.fstat(fd).st_size == len(model), f"after write #{i}: fstat size"
            r_off = rng.randrange(0, len(model))
            r_len = rng.randrange(1, 512 * KiB)
            got = os.pread(fd, r_len, r_off)
            assert got == model.buf[r_off: r_off + r_len], f"after write #{i}: pread({r_len}, {r_off}) differs"


def test_random_offset_writes_into_a_new_file(rw, s3, env):
    m = rw()
    model = Model()
    fd = _create(m.p("rand.bin"))
    try:
        _random_writes(fd, model, random.Random("random-new"), 300, 6 * MiB)
        os.fsync(fd)
    finally:
        os.close(fd)
    assert_object(s3, env.bucket, m.key("rand.bin"), model.bytes())
    assert read_uncached(m.p("rand.bin")) == model.bytes()


def test_random_offset_writes_into_an_existing_object(rw, s3, env, wkey):
    orig = det_bytes("random-existing", 24 * MiB + 5)
    s3.put_object(Bucket=env.bucket, Key=wkey + "obj.bin", Body=orig)
    m = rw()
    model = Model(orig)
    fd = os.open(m.p("obj.bin"), os.O_RDWR)
    try:
        assert os.fstat(fd).st_size == len(orig)
        # offsets over the whole object and up to 2 MiB past its end
        _random_writes(fd, model, random.Random("random-existing"), 200, len(orig) + 2 * MiB)
        os.fsync(fd)
    finally:
        os.close(fd)
    assert_object(s3, env.bucket, m.key("obj.bin"), model.bytes())
    assert read_uncached(m.p("obj.bin")) == model.bytes()


def test_overwrite_of_a_range(rw, s3, env, wkey):
    orig = det_bytes("overwrite", 3 * MiB + 1)
    s3.put_object(Bucket=env.bucket, Key=wkey + "o.bin", Body=orig)
    m = rw()
    model = Model(orig)
    patch = det_bytes("overwrite/patch", 100 * KiB + 3)
    with open(m.p("o.bin"), "r+b") as f:
        f.seek(MiB + 17)
        f.write(patch)
    model.pwrite(MiB + 17, patch)
    assert os.stat(m.p("o.bin")).st_size == len(orig)
    assert read_uncached(m.p("o.bin")) == model.bytes()
    m.unmount_drained()
    assert_object(s3, env.bucket, m.key("o.bin"), model.bytes())


def test_append(rw, s3, env, wkey):
    orig = det_bytes("append/orig", MiB + 5)
    s3.put_object(Bucket=env.bucket, Key=wkey + "log.bin", Body=orig)
    m = rw()
    existing, new = Model(orig), Model()
    chunks = [det_bytes(f"append/{i}", n) for i, n in enumerate([10, 64 * KiB, MiB + 3, 1])]

    fd = os.open(m.p("log.bin"), os.O_WRONLY | os.O_APPEND)
    try:
        write_all(fd, chunks[0])
        os.lseek(fd, 0, os.SEEK_SET)  # O_APPEND: every write goes to the end wherever the offset is
        write_all(fd, chunks[1])
    finally:
        os.close(fd)
    existing.pwrite(len(existing), chunks[0])
    existing.pwrite(len(existing), chunks[1])
    with open(m.p("log.bin"), "ab") as f:  # a second open appends after the first one's bytes
        f.write(chunks[2])
    existing.pwrite(len(existing), chunks[2])
    assert os.stat(m.p("log.bin")).st_size == len(existing)

    for c in chunks:  # a new file, appended to by one open after another
        fd = os.open(m.p("new.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            write_all(fd, c)
        finally:
            os.close(fd)
        new.pwrite(len(new), c)
    assert os.stat(m.p("new.log")).st_size == len(new)
    assert read_uncached(m.p("log.bin")) == existing.bytes()

    m.unmount_drained()
    assert_object(s3, env.bucket, m.key("log.bin"), existing.bytes(), "existing object appended to")
    assert_object(s3, env.bucket, m.key("new.log"), new.bytes(), "new file appended to")


@pytest.mark.parametrize("method", ["ftruncate", "truncate-path", "o-trunc"])
def test_truncate_up_and_down(rw, s3, env, wkey, method):
    sizes = {"a.bin": 5 * MiB + 3, "b.bin": 2 * MiB + 1, "c.bin": 700 * KiB}
    originals = {n: det_bytes(f"trunc/{method}/{n}", s) for n, s in sizes.items()}
    put_many(s3, env.bucket, {wkey + n: b for n, b in originals.items()}, threads=3)
    m = rw()
    models = {n: Model(b) for n, b in originals.items()}

    def check_size(name: str) -> None:
        assert os.stat(m.p(name)).st_size == len(models[name]), f"{method} {name}: stat size on the mount"

    if method == "ftruncate":
        fd = os.open(m.p("a.bin"), os.O_RDWR)
        try:
            os.ftruncate(fd, MiB + 7)  # down
            models["a.bin"].truncate(MiB + 7)
            assert os.fstat(fd).st_size == MiB + 7
            os.ftruncate(fd, 9 * MiB + 1)  # up again: the bytes cut off must not come back, only zeros
            models["a.bin"].truncate(9 * MiB + 1)
            pwrite_all(fd, b"0123456789", 4 * MiB)
            models["a.bin"].pwrite(4 * MiB, b"0123456789")
            assert os.pread(fd, 2 * MiB, MiB) == models["a.bin"].buf[MiB: 3 * MiB]
        finally:
            os.close(fd)
        fd = os.open(m.p("b.bin"), os.O_RDWR)
        try:
            os.ftruncate(fd, 0)
            models["b.bin"].truncate(0)
        finally:
            os.close(fd)
        # a new file, truncated down while being written (its parts already streaming), then written on (at its
        # offset: a gap of zeros)
        fd = _create(m.p("new.bin"), os.O_WRONLY)
        try:
            data = det_stream_bytes(f"trunc/{method}/new", 24 * MiB)
            write_all(fd, data)
            os.ftruncate(fd, MiB)
            write_all(fd, b"after the cut")
        finally:
            os.close(fd)
        models["new.bin"] = Model(data)
        models["new.bin"].truncate(MiB)
        models["new.bin"].pwrite(24 * MiB, b"after the cut")
    elif method == "truncate-path":
        os.truncate(m.p("a.bin"), 2 * MiB)  # down
        models["a.bin"].truncate(2 * MiB)
        check_size("a.bin")
        os.truncate(m.p("b.bin"), 7 * MiB + 3)  # up
        models["b.bin"].truncate(7 * MiB + 3)
        check_size("b.bin")
        os.truncate(m.p("c.bin"), 100)  # down, then up: zeros after byte 100
        os.truncate(m.p("c.bin"), 300 * KiB)
        models["c.bin"].truncate(100)
        models["c.bin"].truncate(300 * KiB)
    else:
        fd = os.open(m.p("a.bin"), os.O_WRONLY | os.O_TRUNC)
        try:
            assert os.fstat(fd).st_size == 0
            write_all(fd, b"new content")
        finally:
            os.close(fd)
        models["a.bin"] = Model(b"new content")
        os.close(os.open(m.p("b.bin"), os.O_WRONLY | os.O_TRUNC))  # truncated and closed, nothing written
        models["b.bin"] = Model()
        with open(m.p("c.bin"), "wb") as f:  # what `>` in a shell does
            f.write(b"x" * 1000)
        models["c.bin"] = Model(b"x" * 1000)

    for name in models:
        check_size(name)
        assert read_uncached(m.p(name)) == models[name].bytes(), f"{method} {name}: bytes read on the mount"
    m.unmount_drained()
    for name, model in models.items():
        assert_object(s3, env.bucket, m.key(name), model.bytes(), f"{method} {name}")
    assert multipart_uploads(s3, env.bucket, m.key_prefix) == []


def test_writes_past_the_end_leave_zeros(rw, s3, env, wkey):
    orig = det_bytes("sparse/orig", MiB)
    s3.put_object(Bucket=env.bucket, Key=wkey + "old.bin", Body=orig)
    m = rw()
    new, old = Model(), Model(orig)

    fd = _create(m.p("sparse.bin"))
    try:
        write_all(fd, b"head bytes")
        far = det_bytes("sparse/far", 4 * KiB)
        pwrite_all(fd, far, 20 * MiB + 123)
        new.pwrite(0, b"head bytes")
        new.pwrite(20 * MiB + 123, far)
        assert os.fstat(fd).st_size == 20 * MiB + 123 + 4 * KiB
        assert os.pread(fd, MiB, 10 * MiB) == b"\0" * MiB, "the gap does not read as zeros"
        os.fsync(fd)
    finally:
        os.close(fd)
    with open(m.p("old.bin"), "r+b") as f:
        f.seek(3 * MiB + 5)
        f.write(b"beyond the end")
    old.pwrite(3 * MiB + 5, b"beyond the end")
    assert os.stat(m.p("old.bin")).st_size == len(old)

    m.unmount_drained()
    assert_object(s3, env.bucket, m.key("sparse.bin"), new.bytes(), "new file written past its end")
    assert_object(s3, env.bucket, m.key("old.bin"), old.bytes(), "existing object written past its end")


# ----------------------------------------------------------------------------------------------------------------
# several writers


def test_two_fds_on_one_file(rw, s3, env):
    m = rw()
    model = Model()
    fd1 = _create(m.p("shared.bin"))
    fd2 = os.open(m.p("shared.bin"), os.O_RDWR)
    try:
        a = det_bytes("twofds/a", MiB)
        pwrite_all(fd1, a, 0)
        model.pwrite(0, a)
        assert os.pread(fd2, MiB, 0) == a, "fd2 does not read what fd1 wrote"
        assert os.fstat(fd2).st_size == MiB
        b = det_bytes("twofds/b", 256 * KiB)
        pwrite_all(fd2, b, 512 * KiB)  # overlaps fd1's bytes
        model.pwrite(512 * KiB, b)
        c = det_bytes("twofds/c", 3 * MiB)
        pwrite_all(fd1, c, 2 * MiB)  # past fd2's idea of the end
        model.pwrite(2 * MiB, c)
        assert os.pread(fd1, 5 * MiB, 0) == model.bytes()
        assert os.pread(fd2, 5 * MiB, 0) == model.bytes()
        os.close(fd1)  # one closed (its upload may start), the other keeps writing
        fd1 = -1
        d = det_bytes("twofds/d", 100 * KiB)
        pwrite_all(fd2, d, 4 * MiB + 7)
        model.pwrite(4 * MiB + 7, d)
    finally:
        if fd1 >= 0:
            os.close(fd1)
        os.close(fd2)
    assert os.stat(m.p("shared.bin")).st_size == len(model)
    m.unmount_drained()
    assert_object(s3, env.bucket, m.key("shared.bin"), model.bytes())


def test_rewrite_while_its_upload_runs(rw, s3, env):
    """A file written, closed, and opened again for writing while its upload is still running: S3 ends up with
    the second version (the running upload is replaced, never left as the last word)."""
    m = rw("--upload-bandwidth", "16M")  # 40 MiB: ~2.5 s of upload
    first = det_stream_bytes("rewrite/first", 40 * MiB)
    with open(m.p("f.bin"), "wb") as f:
        f.write(first)
    model = Model(first)
    patch = det_bytes("rewrite/patch", 300 * KiB)
    with open(m.p("f.bin"), "r+b") as f:  # the upload of `first` is running now
        f.seek(33 * MiB + 5)
        f.write(patch)
        f.seek(0, os.SEEK_END)
        f.write(b"tail")
    model.pwrite(33 * MiB + 5, patch)
    model.pwrite(len(model), b"tail")
    assert read_uncached(m.p("f.bin")) == model.bytes()
    m.unmount_drained()
    assert_object(s3, env.bucket, m.key("f.bin"), model.bytes())
    assert multipart_uploads(s3, env.bucket, m.key_prefix) == []


def test_eight_concurrent_writers_of_different_files(rw, s3, env):
    m = rw()
    rng = random.Random("concurrent")
    files = {f"w{i}.bin": det_bytes(f"concurrent/{i}", rng.randrange(8 * MiB, 40 * MiB) + i) for i in range(8)}
    write_sizes = [64 * KiB, 128 * KiB, MiB, 4 * MiB, 100_000, 333_333, 2 * MiB + 7, 4 * KiB]
    barrier = threading.Barrier(8)

    def writer(i: int) -> None:
        name = f"w{i}.bin"
        data, step = files[name], write_sizes[i]
        barrier.wait(timeout=60)
        fd = _create(m.p(name), os.O_WRONLY)
        try:
            for off in range(0, len(data), step):
                write_all(fd, data[off: off + step])
            os.fsync(fd)
        finally:
            os.close(fd)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for f in [pool.submit(writer, i) for i in range(8)]:
            f.result()
    assert sorted(os.listdir(m.path)) == sorted(files)
    for name, data in files.items():
        n, digest = get_sha256(s3, env.bucket, m.key(name))
        assert (n, digest) == (len(data), hashlib.sha256(data).hexdigest()), f"{name}: S3 bytes differ"


# ----------------------------------------------------------------------------------------------------------------
# rename, unlink


def test_rename_before_close(rw, s3, env):
    m = rw()
    a = det_stream_bytes("rename/a", 40 * MiB + 3)  # five parts: streamed to the old name already
    b = det_bytes("rename/b", 5 * MiB)
    fd = _create(m.p("draft.bin"), os.O_WRONLY)
    try:
        write_all(fd, a)
        os.rename(m.p("draft.bin"), m.p("final.bin"))
        assert sorted(os.listdir(m.path)) == ["final.bin"]
        assert os.stat(m.p("final.bin")).st_size == len(a)
        write_all(fd, b)  # the open fd writes on, into the renamed file
        os.fsync(fd)
        assert_object(s3, env.bucket, m.key("final.bin"), a + b, "renamed while open, right after fsync")
    finally:
        os.close(fd)
    m.unmount_drained()
    assert_object(s3, env.bucket, m.key("final.bin"), a + b)
    assert set(keys_under(s3, env.bucket, m.key_prefix)) == {m.key("final.bin")}
    assert multipart_uploads(s3, env.bucket, m.key_prefix) == []


def test_rename_after_close(rw, s3, env):
    m = rw()
    data = det_bytes("rename-closed", 9 * MiB + 1)
    with open(m.p("written.bin"), "wb") as f:
        f.write(data)
    os.rename(m.p("written.bin"), m.p("moved.bin"))  # its upload may be pending, running or done
    assert sorted(os.listdir(m.path)) == ["moved.bin"]
    assert read_uncached(m.p("moved.bin")) == data
    m.unmount_drained()
    assert_object(s3, env.bucket, m.key("moved.bin"), data)
    assert set(keys_under(s3, env.bucket, m.key_prefix)) == {m.key("moved.bin")}


def test_rename_of_objects_already_in_s3(rw, s3, env, wkey):
    items = {"orig.bin": det_bytes("rename-s3/orig", 3 * MiB), "sub/in.bin": det_bytes("rename-s3/in", 1000),
             "sub/stay.txt": b"stays\n"}
    put_many(s3, env.bucket, {wkey + k: v for k, v in items.items()}, threads=3)
    m = rw()
    os.rename(m.p("orig.bin"), m.p("moved.bin"))
    os.rename(m.p("sub", "in.bin"), m.p("out.bin"))  # into another directory
    assert sorted(os.listdir(m.path)) == ["moved.bin", "out.bin", "sub"]
    assert os.listdir(m.p("sub")) == ["stay.txt"]
    assert read_uncached(m.p("moved.bin")) == items["orig.bin"]
    assert read_uncached(m.p("out.bin")) == items["sub/in.bin"]
    m.unmount_drained()
    assert_object(s3, env.bucket, m.key("moved.bin"), items["orig.bin"])
    assert_object(s3, env.bucket, m.key("out.bin"), items["sub/in.bin"])
    assert set(keys_under(s3, env.bucket, m.key_prefix)) == {m.key(k) for k in ("moved.bin", "out.bin",
                                                                                  "sub/stay.txt")}


def test_rename_replaces_an_existing_target(rw, s3, env, wkey):
    """The save-to-temp-then-rename pattern (POSIX rename replaces the target). Not spelled out in the contract."""
    s3.put_object(Bucket=env.bucket, Key=wkey + "model.pt", Body=b"old version")
    m = rw()
    new = det_bytes("rename-replace", 4 * MiB + 1)
    with open(m.p("model.pt.tmp"), "wb") as f:
        f.write(new)
        f.flush()
        os.fsync(f.fileno())
    os.rename(m.p("model.pt.tmp"), m.p("model.pt"))
    assert sorted(os.listdir(m.path)) == ["model.pt"]
    assert read_uncached(m.p("model.pt")) == new
    m.unmount_drained()
    assert_object(s3, env.bucket, m.key("model.pt"), new)
    assert set(keys_under(s3, env.bucket, m.key_prefix)) == {m.key("model.pt")}


def test_unlink_of_an_open_file_uploads_nothing(rw, s3, env):
    m = rw()
    fd = _create(m.p("doomed.bin"), os.O_WRONLY)
    try:
        write_all(fd, det_bytes("unlink-open", 40 * MiB))  # several parts: some may be uploaded already
        os.unlink(m.p("doomed.bin"))
        assert os.listdir(m.path) == []
        expect_errno(errno.ENOENT, os.stat, m.p("doomed.bin"))
        write_all(fd, b"written after the unlink")  # POSIX: the open file lives on until closed
        os.fsync(fd)
    finally:
        os.close(fd)
    assert os.listdir(m.path) == []
    m.unmount_drained()
    assert keys_under(s3, env.bucket, m.key_prefix) == {}, "an unlinked open file was uploaded"
    assert multipart_uploads(s3, env.bucket, m.key_prefix) == [], "parts of an unlinked file were left in S3"


def test_unlink_of_closed_files_and_of_objects_in_s3(rw, s3, env, wkey):
    s3.put_object(Bucket=env.bucket, Key=wkey + "in-s3.bin", Body=b"an object")
    s3.put_object(Bucket=env.bucket, Key=wkey + "keep.bin", Body=b"keep me")
    m = rw()
    with open(m.p("closed.bin"), "wb") as f:
        f.write(det_bytes("unlink-closed", 3 * MiB))
    os.unlink(m.p("closed.bin"))  # its upload may be pending, running or done: in the end it is gone
    os.unlink(m.p("in-s3.bin"))
    assert os.listdir(m.path) == ["keep.bin"]
    expect_errno(errno.ENOENT, os.unlink, m.p("in-s3.bin"))
    m.unmount_drained()
    assert set(keys_under(s3, env.bucket, m.key_prefix)) == {m.key("keep.bin")}
    assert multipart_uploads(s3, env.bucket, m.key_prefix) == []


# ----------------------------------------------------------------------------------------------------------------
# read-your-writes


def test_read_your_writes_while_the_file_is_open(rw, s3, env):
    m = rw()
    data = det_bytes("ryw-open", 9 * MiB + 5)
    fd = _create(m.p("open.bin"), os.O_WRONLY)
    try:
        write_all(fd, data[: 6 * MiB])
        assert os.stat(m.p("open.bin")).st_size == 6 * MiB
        assert os.listdir(m.path) == ["open.bin"]
        assert read_uncached(m.p("open.bin")) == data[: 6 * MiB]
        # other clients see the object only once its upload completes, which cannot be before close
        assert head(s3, env.bucket, m.key("open.bin")) is None, "an object appeared in S3 while still open"
        write_all(fd, data[6 * MiB:])
        assert os.stat(m.p("open.bin")).st_size == len(data)
    finally:
        os.close(fd)
    assert read_uncached(m.p("open.bin")) == data
    m.unmount_drained()
    assert_object(s3, env.bucket, m.key("open.bin"), data)


def test_read_your_writes_while_the_upload_is_pending(rw, s3, env):
    # 12 MiB in parts of 5 MiB at 1 MiB/s: even if the first part goes at once (a token bucket that starts full
    # lets one part through), the rest takes 7 s
    m = rw("--upload-bandwidth", "1M", "--part-size", "5M")
    data = det_bytes("ryw-pending", 12 * MiB)
    inner = det_bytes("ryw-pending/inner", 2 * MiB + 1)
    os.mkdir(m.p("sub"))
    t0 = time.monotonic()
    with open(m.p("pending.bin"), "wb") as f:
        f.write(data)
    with open(m.p("sub", "inner.bin"), "wb") as f:
        f.write(inner)
    close_s = time.monotonic() - t0
    assert head(s3, env.bucket, m.key("pending.bin")) is None, (
        f"pending.bin is already in S3 {close_s:.1f}s after it was written, with --upload-bandwidth 1M "
        f"(12 MiB needs 7 s after a first part of 5 MiB): either close() waited for the upload or the bandwidth "
        f"limit does not hold")
    assert sorted(os.listdir(m.path)) == ["pending.bin", "sub"]
    assert os.listdir(m.p("sub")) == ["inner.bin"]
    assert os.stat(m.p("pending.bin")).st_size == len(data)
    assert os.stat(m.p("sub", "inner.bin")).st_size == len(inner)
    assert read_uncached(m.p("pending.bin")) == data
    assert read_uncached(m.p("sub", "inner.bin")) == inner
    m.unmount_drained(timeout=120)
    assert_object(s3, env.bucket, m.key("pending.bin"), data)
    assert_object(s3, env.bucket, m.key("sub/inner.bin"), inner)


def test_new_files_are_listed_right_after_close(rw, s3, env):
    """Each of 150 new files (empty or small: their uploads finish within milliseconds of close, racing the
    listing) is in the directory's listing right after its close, with every file before it, also in a
    directory that was listed (empty) just before."""
    m = rw()
    names: list[str] = []
    missing: list[str] = []
    for i in range(100):
        name = f"f{i:03d}.bin"
        with open(m.p(name), "wb") as f:
            f.write(b"x" * (i % 3) * 100)
        names.append(name)
        listed = set(os.listdir(m.path))
        missing += [f"{n} (after {name}'s close)" for n in names if n not in listed]
    for i in range(50):
        d = m.p(f"d{i:02d}")
        os.mkdir(d)
        assert os.listdir(d) == []
        with open(os.path.join(d, "x"), "wb") as f:
            f.write(b"1" * i)
        if os.listdir(d) != ["x"]:
            missing.append(f"d{i:02d}/x")
    assert not missing, f"{len(missing)} new files missing from a listing right after close: {missing[:8]}"
    m.unmount_drained()
    assert len(keys_under(s3, env.bucket, m.key_prefix)) == 100 + 50 + 50  # files, markers, files in dirs


# ----------------------------------------------------------------------------------------------------------------
# read-only mounts


@pytest.mark.parametrize("options", [["--read-only"], ["-o", "ro"]], ids=["read-only", "o-ro"])
def test_read_only_mount_refuses_writes_with_erofs(rw, s3, env, wkey, options):
    put_many(s3, env.bucket, {wkey + "file.txt": b"untouched\n", wkey + "dir/inner.txt": b"inner\n"}, threads=2)
    # the same mount without the read-only option writes (so the refusals below come from the option)
    w = rw()
    with open(w.p("written.txt"), "wb") as fh:
        fh.write(b"written by a read-write mount\n")
        fh.flush()
        os.fsync(fh.fileno())
    w.unmount_drained()
    before = keys_under(s3, env.bucket, wkey)
    assert set(before) == {wkey + "file.txt", wkey + "dir/inner.txt", wkey + "written.txt"}
    m = rw(*options)
    f = m.p("file.txt")
    expect_errno(errno.EROFS, open, m.p("new.txt"), "wb")
    expect_errno(errno.EROFS, os.open, f, os.O_WRONLY)
    expect_errno(errno.EROFS, os.open, f, os.O_RDWR)
    expect_errno(errno.EROFS, os.open, f, os.O_WRONLY | os.O_APPEND)
    expect_errno(errno.EROFS, os.open, f, os.O_RDONLY | os.O_TRUNC)
    expect_errno(errno.EROFS, os.truncate, f, 0)
    expect_errno(errno.EROFS, os.mkdir, m.p("newdir"))
    expect_errno(errno.EROFS, os.unlink, f)
    expect_errno(errno.EROFS, os.rmdir, m.p("dir"))
    expect_errno(errno.EROFS, os.rename, f, m.p("renamed.txt"))
    expect_errno(errno.EROFS, os.rename, m.p("dir"), m.p("renamed-dir"))
    expect_errno(errno.EROFS, os.chmod, f, 0o600)
    expect_errno(errno.EROFS, os.utime, f, (1_600_000_000, 1_600_000_000))
    expect_errno(errno.EROFS, os.symlink, "file.txt", m.p("link"))
    with open(f, "rb") as fh:
        assert fh.read() == b"untouched\n"
    assert sorted(os.listdir(m.path)) == ["dir", "file.txt", "written.txt"]
    m.unmount_drained()
    assert keys_under(s3, env.bucket, wkey) == before
