"""File contents through the mount: sizes, sha256 of every byte, parallel readers, random preads."""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import random
import stat
import threading

import pytest

from conftest import KiB, MiB, SIZES, SourceFile, put_many, det_bytes, sha256_file


@pytest.fixture(scope="module")
def parallel_files(s3, env, prefix) -> dict[str, tuple[int, str, bytes]]:
    """par/f00..f15: 16 different files of 1..4 MiB (odd sizes): name -> (size, sha256, bytes)."""
    rng = random.Random("parallel-sizes")
    items = {}
    for i in range(16):
        size = rng.randrange(1 * MiB, 4 * MiB) + i
        items[f"f{i:02d}"] = det_bytes(f"par/{i}", size)
    put_many(s3, env.bucket, {f"{prefix}par/{n}": b for n, b in items.items()}, threads=16)
    return {n: (len(b), hashlib.sha256(b).hexdigest(), b) for n, b in items.items()}


@pytest.fixture(scope="module")
def m(module_mounter, env, prefix, sized_files, parallel_files):
    return module_mounter.mount(f"{env.bucket}:{prefix}")


def test_sizes_directory_lists_every_file(m, sized_files):
    assert sorted(os.listdir(m.p("sizes"))) == sorted(f"{n}.bin" for n in SIZES)


@pytest.mark.parametrize("name", list(SIZES))
def test_size_and_sha256_equal_source(m, sized_files, name):
    src: SourceFile = sized_files[name]
    path = m.p(src.rel)
    st = os.stat(path)
    assert stat.S_ISREG(st.st_mode)
    assert st.st_size == src.size == SIZES[name]
    assert sha256_file(path) == src.sha256, f"{src.rel}: bytes read through the mount differ from the upload"
    # read it a second way: one read() call per 1 MiB + 1 B (unaligned sizes), for the small files
    if src.size <= 2 * MiB:
        with open(path, "rb", buffering=0) as f:
            data = b""
            while chunk := f.read(MiB + 1):
                data += chunk
        with open(src.local, "rb") as f:
            assert data == f.read()


def test_16_parallel_readers_of_16_files(m, parallel_files):
    barrier = threading.Barrier(16)

    def read(name: str) -> tuple[str, int, str]:
        path = m.p("par", name)
        barrier.wait(timeout=60)
        h = hashlib.sha256()
        n = 0
        with open(path, "rb", buffering=0) as f:
            while chunk := f.read(256 * KiB):
                h.update(chunk)
                n += len(chunk)
        return name, n, h.hexdigest()

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(read, sorted(parallel_files)))
    assert len(results) == 16
    for name, n, digest in results:
        size, want, _ = parallel_files[name]
        assert (n, digest) == (size, want), f"par/{name}: read {n} bytes sha256 {digest}, want {size} {want}"


def test_8_parallel_readers_of_one_64mib_file(m, sized_files):
    src = sized_files["64m"]
    barrier = threading.Barrier(8)

    def read(i: int) -> str:
        barrier.wait(timeout=60)
        # different request sizes so the readers do not walk in lock-step
        bufsize = [64 * KiB, 128 * KiB, 1 * MiB, 4 * MiB, 100_000, 333_333, 2 * MiB + 7, 512 * KiB][i]
        h = hashlib.sha256()
        with open(m.p(src.rel), "rb", buffering=0) as f:
            while chunk := f.read(bufsize):
                h.update(chunk)
        return h.hexdigest()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        digests = list(pool.map(read, range(8)))
    assert digests == [src.sha256] * 8


def test_200_random_preads_in_64mib_file(m, sized_files):
    src = sized_files["64m"]
    rng = random.Random("pread-200")
    size = src.size
    fd = os.open(m.p(src.rel), os.O_RDONLY)
    try:
        with open(src.local, "rb") as local:
            for i in range(200):
                kind = rng.random()
                if kind < 0.05:
                    offset = size + rng.randrange(0, 3 * MiB)  # at or past EOF: empty
                elif kind < 0.15:
                    offset = size - rng.randrange(1, 2 * MiB)  # crosses EOF: short
                else:
                    offset = rng.randrange(0, size)
                length = rng.choice([1, 7, 4096, 4097, 65536, 131071, rng.randrange(1, 3 * MiB)])
                got = os.pread(fd, length, offset)
                local.seek(min(offset, size))
                want = local.read(max(0, min(length, size - offset)))
                assert len(got) == len(want), f"pread #{i} offset={offset} length={length}: {len(got)} bytes, " \
                                              f"want {len(want)}"
                assert got == want, f"pread #{i} offset={offset} length={length}: bytes differ from the source"
    finally:
        os.close(fd)
