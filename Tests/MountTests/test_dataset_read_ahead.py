"""Reading a dataset directory through the mount: dataset read-ahead fetches the files ahead of a listing-order
walk and stays within a tenth of waste for a sparse random reader; missing names are remembered (negative
entries); a directory walked again after its TTL costs one LIST, not a request per file. The daemon's
--stats-file gives the counters; every file read is checked against its source bytes.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import random
import time

import pytest

from conftest import KiB, det_bytes, put_many, wait_until
from faults import Stats, free_port
from observe import Scrape

COUNT = 240
SIZE = 60 * KiB


@pytest.fixture(scope="module")
def dataset(s3, env, prefix) -> dict[str, str]:
    """ds/train/fNNNN (240 files of ~60 KiB): name -> sha256."""
    items = {f"ds/train/f{i:04d}": det_bytes(f"ds/{i}", SIZE + i) for i in range(COUNT)}
    put_many(s3, env.bucket, {prefix + k: v for k, v in items.items()}, threads=16)
    return {k.rsplit("/", 1)[1]: hashlib.sha256(v).hexdigest() for k, v in items.items()}


@pytest.fixture
def mount(mounter, env, prefix, dataset, tmp_path):
    stats = Stats(str(tmp_path / "stats.json"))

    def make(*options: str):
        m = mounter.mount(f"{env.bucket}:{prefix}", "--stats-file", stats.path, *options)
        assert wait_until(lambda: os.path.exists(stats.path), 5), "the stats file was not written"
        return m

    # A snapshot written after every read so far (the daemon rewrites the file every second).
    return make, stats.wait_fresh


def read_files(root: str, names: list[str], dataset: dict[str, str], workers: int = 4) -> None:
    def one(name: str) -> tuple[str, str]:
        with open(os.path.join(root, name), "rb") as f:
            return name, hashlib.sha256(f.read()).hexdigest()

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for name, digest in pool.map(one, names):
            assert digest == dataset[name], f"{name}: wrong bytes"


def test_a_listing_order_walk_is_read_from_prefetched_files(mount, dataset):
    make, stats = mount
    m = make()
    root = m.p("ds", "train")
    names = sorted(os.listdir(root))
    assert names == sorted(dataset)
    read_files(root, names, dataset)
    counters = stats()["dataset_read_ahead"]
    assert counters["used_files"] >= COUNT * 3 // 4, counters
    # Prefetched and never read: at most the lead at the end of the walk.
    assert counters["prefetched_files"] - counters["used_files"] <= 32, counters
    reads = stats()["reads"]
    assert reads["from_memory"] > 0, reads


def test_a_sparse_random_reader_wastes_at_most_a_tenth(mount, dataset):
    make, stats = mount
    m = make()
    root = m.p("ds", "train")
    names = sorted(os.listdir(root))
    picked = random.Random(5).sample(names, COUNT // 20)
    read_files(root, picked, dataset, workers=2)
    counters = stats()["dataset_read_ahead"]
    job_bytes = sum(SIZE + int(n[1:]) for n in picked)
    wasted = counters["prefetched_bytes"] - counters["used_bytes"]
    assert wasted <= 0.1 * (job_bytes + counters["prefetched_bytes"]), counters


def test_a_prefetched_file_reaches_the_kernel_with_its_open(mount, dataset, tmp_path):
    """A writable mount hands a small file already in memory to the kernel with its open (FUSE notify_store):
    reading it sends no read request, and a stat after it no getattr (a read sent to the daemon would have made
    the kernel mark the file's access time stale)."""
    make, _ = mount
    names = sorted(dataset)[:40]
    manifest = tmp_path / "manifest.txt"
    manifest.write_text("".join(f"ds/train/{name}\n" for name in names))
    port = free_port()
    m = make("--prefetch-manifest", str(manifest), "--metrics-address", f"127.0.0.1:{port}",
             "--metadata-ttl", "3600", "--no-dataset-read-ahead")
    total = sum(SIZE + int(name[1:]) for name in names)
    # Every byte of the manifest's files handed to their blocks: they are in memory.
    assert wait_until(lambda: Scrape(port).value("s3mount_s3_received_bytes_total") >= total, 30)
    root = m.p("ds", "train")
    for name in names:
        assert os.stat(os.path.join(root, name)).st_size == SIZE + int(name[1:])
    before = Scrape(port)
    read_files(root, names, dataset, workers=1)
    for name in names:
        os.stat(os.path.join(root, name))
    after = Scrape(port)

    def sent(operation: str) -> float:
        name = "s3mount_fuse_operation_duration_seconds_count"
        return after.value(name, operation=operation) - before.value(name, operation=operation)

    assert sent("open") == len(names)
    # A block may complete an instant after its last byte is counted: allow that for a file or two.
    assert sent("read") <= 2, f"{sent('read')} reads for {len(names)} files handed over at open"
    assert sent("getattr") <= 2, f"{sent('getattr')} getattrs after reading {len(names)} files"


def test_turned_off_nothing_is_prefetched(mount, dataset):
    make, stats = mount
    m = make("--no-dataset-read-ahead")
    root = m.p("ds", "train")
    read_files(root, sorted(os.listdir(root)), dataset)
    assert stats()["dataset_read_ahead"]["prefetched_files"] == 0


def test_a_missing_name_is_remembered_for_the_ttl(mount, dataset, s3, env, prefix):
    make, stats = mount
    m = make("--metadata-ttl", "3600")
    path = m.p("ds", "train", "late-arrival")
    with pytest.raises(FileNotFoundError):
        os.stat(path)
    requests = sum(e["requests"] for e in stats()["endpoints"])
    s3.put_object(Bucket=env.bucket, Key=prefix + "ds/train/late-arrival", Body=b"x")
    try:
        for _ in range(20):
            with pytest.raises(FileNotFoundError):
                os.stat(path)
        # The kernel answered from its negative entry: not one request more.
        assert sum(e["requests"] for e in stats()["endpoints"]) == requests
    finally:
        s3.delete_object(Bucket=env.bucket, Key=prefix + "ds/train/late-arrival")


def test_a_name_created_through_the_mount_is_visible_at_once(mount, dataset):
    make, _ = mount
    m = make("--metadata-ttl", "3600")
    path = m.p("ds", "new-file")
    with pytest.raises(FileNotFoundError):
        os.stat(path)
    with open(path, "wb") as f:
        f.write(b"hello")
    assert os.stat(path).st_size == 5
    os.unlink(path)


def test_a_directory_walked_again_after_its_ttl_costs_one_list(mount, dataset):
    make, stats = mount
    # Without leases, so that the kernel asks for every name again once the TTL has passed.
    m = make("--metadata-ttl", "1", "--metadata-lease", "0")
    root = m.p("ds", "train")
    names = sorted(os.listdir(root))
    for name in names:
        os.stat(os.path.join(root, name))
    # Let every name's metadata (and the listing) expire: the TTL is a time, so waiting it out is the test.
    time.sleep(1.5)
    before = sum(e["requests"] for e in stats()["endpoints"])
    started = time.monotonic()
    for name in names:
        assert os.stat(os.path.join(root, name)).st_size == SIZE + int(name[1:])
    elapsed = time.monotonic() - started
    used = sum(e["requests"] for e in stats()["endpoints"]) - before
    # Per TTL that passes during the walk: one LIST of the directory (a page holds all 240 names) and one lookup
    # of each of its two ancestors (ds, ds/train) — never a request per file.
    assert used <= 3 * (1 + int(elapsed)), f"{used} requests to stat {len(names)} names again in {elapsed:.1f} s"
