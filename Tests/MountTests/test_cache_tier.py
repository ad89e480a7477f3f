"""The node-wide cache tier (issue 9): blocks under --cache-dir/blocks are shared by every mount of the bucket and
survive remounts (read-only mounts here: two read-write mounts of one bucket and prefix each need their own
staging area, so their own --cache-dir); a replaced object, a damaged block file, a killed writer, a full or read-only directory never
give wrong bytes; several mounts filling one directory keep it within --cache-size. What S3 sent is counted by the
gateway itself (Ceph's rgw get_b), as the read-pattern tests do."""

from __future__ import annotations

import glob
import hashlib
import os
import signal
import subprocess
import threading

import pytest

from conftest import MiB, det_bytes, is_mounted, live_daemons, wait_until
from test_read_patterns import rgw_asok, rgw_get_bytes

GiB = 1024 * MiB
BLOCK = 8 * MiB  # the default block size


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def read_sha(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(4 * MiB):
            h.update(chunk)
    return h.hexdigest()


def block_files(cache: str) -> list[str]:
    return glob.glob(os.path.join(cache, "blocks", "??", "*.blk"))


def blocks_size(cache: str) -> int:
    total = 0
    for path in block_files(cache):
        try:
            total += os.path.getsize(path)
        except FileNotFoundError:
            pass  # evicted while we looked
    return total


def drop_page_cache() -> None:
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


@pytest.fixture(scope="module")
def big(s3, env, prefix):
    data = b"".join(det_bytes(f"cache-tier/big/{i}", 64 * MiB) for i in range(GiB // (64 * MiB)))
    key = prefix + "tier/big.bin"
    s3.put_object(Bucket=env.bucket, Key=key, Body=data)
    return f"{env.bucket}:{prefix}tier", sha(data)


@pytest.fixture
def witness(env):
    asok = rgw_asok(env.endpoint)
    assert asok, f"no radosgw admin socket for {env.endpoint}: source the testbed env file"
    return lambda: rgw_get_bytes(asok)


def test_a_second_mount_and_a_remount_read_from_the_tier_not_from_s3(mounter, big, witness, tmp_path):
    source, digest = big
    cache = str(tmp_path / "cache")
    first = mounter.mount(source, "--cache-dir", cache, "--cache-size", "4G", "--read-only")
    assert read_sha(first.p("big.bin")) == digest
    assert wait_until(lambda: blocks_size(cache) >= GiB, 60), f"only {blocks_size(cache)} bytes reached the tier"

    second = mounter.mount(source, "--cache-dir", cache, "--cache-size", "4G", "--read-only")
    before = witness()
    assert read_sha(second.p("big.bin")) == digest
    fetched = witness() - before
    assert fetched <= GiB // 100, f"the second mount fetched {fetched} bytes of a 1 GiB object the tier holds"

    first.unmount()
    second.unmount()
    again = mounter.mount(source, "--cache-dir", cache, "--cache-size", "4G", "--read-only")
    drop_page_cache()
    before = witness()
    assert read_sha(again.p("big.bin")) == digest
    fetched = witness() - before
    assert fetched <= GiB // 100, f"after a remount {fetched} bytes came from S3 again"


def test_two_mounts_reading_one_cold_object_at_once_fetch_it_once(mounter, s3, env, prefix, witness, tmp_path):
    """Single-flight across processes: each block is fetched by whichever mount claims it first; the other waits
    for that claim and reads the block from the tier."""
    data = b"".join(det_bytes(f"tier/shared/{i}", 32 * MiB) for i in range(8))
    s3.put_object(Bucket=env.bucket, Key=prefix + "tier-shared/cold.bin", Body=data)
    cache = str(tmp_path / "cache")
    source = f"{env.bucket}:{prefix}tier-shared"
    mounts = [mounter.mount(source, "--cache-dir", cache, "--cache-size", "2G", "--read-only") for _ in range(2)]
    digests: list[str] = []
    readers = [threading.Thread(target=lambda m=m: digests.append(read_sha(m.p("cold.bin")))) for m in mounts]
    before = witness()
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(120)
    fetched = witness() - before
    assert digests == [sha(data)] * 2
    assert fetched <= len(data) * 105 // 100, f"{fetched} bytes came from S3 for two reads of {len(data)} at once"


def test_a_replaced_object_is_read_new_never_from_its_old_blocks(mounter, s3, env, prefix, tmp_path):
    key = prefix + "tier/replaced.bin"
    old, new = det_bytes("tier/old", 3 * MiB + 7), det_bytes("tier/new", 3 * MiB + 7)
    s3.put_object(Bucket=env.bucket, Key=key, Body=old)
    cache = str(tmp_path / "cache")
    source = f"{env.bucket}:{prefix}tier"
    m = mounter.mount(source, "--cache-dir", cache, "--block-size", "1M")
    assert read_sha(m.p("replaced.bin")) == sha(old)
    assert wait_until(lambda: len(block_files(cache)) == 4, 30)
    m.unmount()
    s3.put_object(Bucket=env.bucket, Key=key, Body=new)
    m = mounter.mount(source, "--cache-dir", cache, "--block-size", "1M")
    assert read_sha(m.p("replaced.bin")) == sha(new)


def test_damaged_block_files_are_dropped_logged_and_fetched_again(mounter, s3, env, prefix, tmp_path):
    data = det_bytes("tier/damaged", 4 * MiB)
    s3.put_object(Bucket=env.bucket, Key=prefix + "tier/damaged.bin", Body=data)
    cache = str(tmp_path / "cache")
    source = f"{env.bucket}:{prefix}tier"
    m = mounter.mount(source, "--cache-dir", cache, "--block-size", "1M")
    assert read_sha(m.p("damaged.bin")) == sha(data)
    assert wait_until(lambda: len(block_files(cache)) == 4, 30)
    m.unmount()
    flipped, truncated = sorted(block_files(cache))[:2]
    with open(flipped, "r+b") as f:
        f.seek(4096)
        byte = f.read(1)
        f.seek(4096)
        f.write(bytes([byte[0] ^ 0x01]))
    os.truncate(truncated, os.path.getsize(truncated) // 2)
    log = tmp_path / "daemon.log"
    m = mounter.mount(source, "--cache-dir", cache, "--block-size", "1M", "--log-file", str(log))
    assert read_sha(m.p("damaged.bin")) == sha(data)
    lines = [line for line in log.read_text().splitlines() if "dropped a bad block file" in line]
    assert len(lines) == 2, lines
    assert any("checksum" in line for line in lines) and any("truncated" in line for line in lines), lines
    m.unmount()
    m = mounter.mount(source, "--cache-dir", cache, "--block-size", "1M", "--log-file", str(log))
    assert read_sha(m.p("damaged.bin")) == sha(data)
    assert len([line for line in log.read_text().splitlines() if "dropped a bad block file" in line]) == 2, \
        "the blocks fetched again were bad again"


def test_a_writer_killed_mid_block_never_leaves_a_partial_block(mounter, big, tmp_path):
    source, digest = big
    cache = str(tmp_path / "cache")
    killed = mounter.mount(source, "--cache-dir", cache, "--cache-size", "4G", "--read-only")
    (pid,) = live_daemons(killed.path)
    reader = subprocess.Popen(["cat", killed.p("big.bin")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_until(lambda: len(block_files(cache)) >= 8, 60), "the reader never got going"
    os.kill(pid, signal.SIGKILL)
    reader.wait(timeout=30)
    assert wait_until(lambda: not live_daemons(killed.path), 10)
    subprocess.run(["fusermount3", "-uz", killed.path], check=False)
    other = mounter.mount(source, "--cache-dir", cache, "--cache-size", "4G", "--read-only")
    assert read_sha(other.p("big.bin")) == digest


def test_three_mounts_filling_one_cache_stay_within_its_size(mounter, s3, env, prefix, tmp_path):
    size = 384 * MiB
    keys = {f"fill-{i}.bin": b"".join(det_bytes(f"tier/fill/{i}/{j}", 64 * MiB) for j in range(size // (64 * MiB)))
            for i in range(3)}
    for name, data in keys.items():
        s3.put_object(Bucket=env.bucket, Key=f"{prefix}tier/fill/{name}", Body=data)
    cache = str(tmp_path / "cache")
    source = f"{env.bucket}:{prefix}tier/fill"
    mounts = [mounter.mount(source, "--cache-dir", cache, "--cache-size", "512M", "--read-only") for _ in range(3)]
    bound = 512 * MiB + 3 * (BLOCK + 4096)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], blocks_size(cache))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    results: dict[str, str] = {}
    try:
        threads = [threading.Thread(target=lambda m=m, n=n: results.__setitem__(n, read_sha(m.p(n))))
                   for m, n in zip(mounts, keys)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop.set()
        sampler.join()
    assert results == {n: sha(d) for n, d in keys.items()}
    final = blocks_size(cache)
    assert final > 256 * MiB, f"the tier kept only {final} bytes"
    assert max(peak[0], final) <= bound, f"the cache held {max(peak[0], final)} bytes, bound {bound}"


def test_a_full_or_read_only_cache_dir_still_reads_with_one_warning(mounter, s3, env, prefix, tmp_path):
    data = det_bytes("tier/small-fs", 64 * MiB)
    s3.put_object(Bucket=env.bucket, Key=prefix + "tier/fs/data.bin", Body=data)
    source = f"{env.bucket}:{prefix}tier/fs"
    for mode in ("full", "read-only"):
        cache = tmp_path / f"cache-{mode}"
        cache.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(cache)], check=True)
        try:
            if mode == "full":
                with open(cache / "filler", "wb") as f:
                    f.write(b"\0" * (15 * MiB))
            else:
                subprocess.run(["mount", "-o", "remount,ro", str(cache)], check=True)
            log = tmp_path / f"{mode}.log"
            m = mounter.mount(source, "--cache-dir", str(cache), "--read-only", "--block-size", "1M",
                              "--log-file", str(log))
            assert read_sha(m.p("data.bin")) == sha(data), mode
            m.unmount()
            warnings = [line for line in log.read_text().splitlines() if "cache tier" in line]
            assert len(warnings) == 1 and "warning" in warnings[0], f"{mode}: {warnings}"
        finally:
            subprocess.run(["umount", "-l", str(cache)], check=False)
