"""A reader of fixed-size records at a fixed stride (a distributed sampler's rank over a records file) gets the
next records fetched ahead of it as records, never the gaps between them; a reader of the same records in a
random order sets nothing off. The daemon's --stats-file gives the counters; every record is checked against its
source bytes.
"""

from __future__ import annotations

import os
import random

import pytest

from conftest import MiB, det_bytes, put_many, wait_until
from faults import Stats

SIZE = 48 * MiB
# A 3x224x224 uint8 image per record, in a file of records interleaved across 4 ranks: one rank reads every
# fourth record. Neither is a multiple of the page size, so the kernel's reads are rounded differently each time.
RECORD = 150_528
STRIDE = 4 * RECORD
FIRST = 1_000


@pytest.fixture(scope="module")
def records(s3, env, prefix) -> bytes:
    data = det_bytes("records/big", SIZE)
    put_many(s3, env.bucket, {prefix + "records/big.bin": data})
    return data


@pytest.fixture
def mount(mounter, env, prefix, records, tmp_path):
    stats = Stats(str(tmp_path / "stats.json"))
    m = mounter.mount(f"{env.bucket}:{prefix}", "--stats-file", stats.path)
    assert wait_until(lambda: os.path.exists(stats.path), 5), "the stats file was not written"
    return m, stats


def read_records(path: str, offsets: list[int], source: bytes) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        for offset in offsets:
            assert os.pread(fd, RECORD, offset) == source[offset:offset + RECORD], f"record at {offset}: wrong bytes"
    finally:
        os.close(fd)


def test_strided_records_are_read_ahead_as_records(mount, records):
    m, stats = mount
    offsets = list(range(FIRST, SIZE - RECORD, STRIDE))
    read_records(m.p("records", "big.bin"), offsets, records)
    counters = stats.wait_fresh()["record_read_ahead"]
    # After the first few records show the stride, the rank's reads are answered from records fetched ahead.
    assert counters["reads_from_prefetched"] >= len(offsets) * 3 // 4, counters
    # Each is fetched as the record and a little margin: far from the span (4 records of bytes per record read).
    assert counters["prefetched_bytes"] <= 1.5 * RECORD * counters["prefetched_records"], counters
    assert counters["prefetched_records"] <= len(offsets) + 8, counters


def test_records_in_random_order_set_off_no_record_read_ahead(mount, records):
    m, stats = mount
    offsets = list(range(FIRST, SIZE - RECORD, STRIDE))
    random.Random(3).shuffle(offsets)
    read_records(m.p("records", "big.bin"), offsets, records)
    counters = stats.wait_fresh()["record_read_ahead"]
    assert counters["prefetched_records"] == 0, counters
