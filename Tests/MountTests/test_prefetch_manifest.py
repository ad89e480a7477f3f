"""--prefetch-manifest: the files it lists are fetched from the moment the mount starts, in its order, resolved
with one LIST per directory (no request per file beyond its GET), and the job then reads them from memory; a
missing entry is counted and skipped; a manifest line that names nothing under the mount fails the mount with
one line. Every file read is checked against its source bytes.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import random

import pytest

from conftest import KiB, det_bytes, put_many, wait_until
from faults import Stats
from test_cli_errors import check_failure, check_nothing_mounted, run_timed

COUNT = 120
SIZE = 60 * KiB


@pytest.fixture(scope="module")
def dataset(s3, env, prefix) -> dict[str, str]:
    """mf/cN/fNNNN (120 files of ~60 KiB in two folders): relative path -> sha256."""
    items = {f"mf/c{i % 2}/f{i:04d}": det_bytes(f"mf/{i}", SIZE + i) for i in range(COUNT)}
    put_many(s3, env.bucket, {prefix + k: v for k, v in items.items()}, threads=16)
    return {k: hashlib.sha256(v).hexdigest() for k, v in items.items()}


def test_listed_files_are_prefetched_at_mount_and_read_from_memory(mounter, env, prefix, dataset, tmp_path):
    order = sorted(dataset)
    random.Random(4).shuffle(order)
    manifest = tmp_path / "manifest.txt"
    manifest.write_text("# epoch 1\n" + "\n".join(order) + "\nmf/c0/missing\n")
    stats = Stats(str(tmp_path / "stats.json"))
    m = mounter.mount(f"{env.bucket}:{prefix}", "--stats-file", stats.path, "--prefetch-manifest", str(manifest),
                      "--no-dataset-read-ahead")
    # Before the job reads anything, the whole manifest (it fits the memory share) is fetched.
    assert wait_until(lambda: os.path.exists(stats.path)
                      and stats.read()["manifest_read_ahead"]["prefetched_files"] == COUNT, 30), \
        stats.read() if os.path.exists(stats.path) else "no stats file"
    before = sum(stats.requests().values())

    def one(path: str) -> tuple[str, str]:
        with open(m.p(path), "rb") as f:
            return path, hashlib.sha256(f.read()).hexdigest()

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for path, digest in pool.map(one, order):
            assert digest == dataset[path], f"{path}: wrong bytes"
    snapshot = stats.wait_fresh()
    counters = snapshot["manifest_read_ahead"]
    assert counters["entries"] == COUNT + 1 and counters["missing"] == 1, counters
    assert counters["used_files"] == COUNT, counters
    # Prefetch: the mount's own LIST, one per directory and a GET per file; not a HEAD per file.
    assert before <= COUNT + 6, stats.requests(snapshot)
    # The job's reads fetched nothing again: every file was GET once, by prefetch. (Their lookups cost a few
    # requests per folder until the folder is seen being walked and listed.)
    assert snapshot["gets"] == COUNT, snapshot["gets"]
    assert sum(stats.requests(snapshot).values()) - before <= COUNT // 4, stats.requests(snapshot)


def test_a_manifest_line_outside_the_mount_fails_the_mount(mounter, env, tmp_path):
    manifest = tmp_path / "manifest.txt"
    manifest.write_text("mf/c0/f0000\n/etc/passwd\n")
    mp = mounter.mountpoint()
    r, t = run_timed(mounter, ["--endpoint", env.endpoint, "--prefetch-manifest", str(manifest), env.bucket, mp])
    check_failure(r, t, 1, ["line 2", "/etc/passwd", "relative to the mount"])
    check_nothing_mounted(mp)


def test_an_unreadable_manifest_fails_the_mount(mounter, env, tmp_path):
    mp = mounter.mountpoint()
    missing = str(tmp_path / "absent.txt")
    r, t = run_timed(mounter, ["--endpoint", env.endpoint, "--prefetch-manifest", missing, env.bucket, mp])
    check_failure(r, t, 1, [f"cannot read --prefetch-manifest {missing}"])
    check_nothing_mounted(mp)
