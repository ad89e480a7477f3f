"""Leases on a writable mount (the default): the kernel keeps the names of a listed directory past the metadata TTL,
so a second pass over a dataset sends no lookup, while s3mount lists the directory again every TTL and takes back
each name whose object changed in S3. The mount's own creates, overwrites, unlinks and renames show at once through
the names the kernel holds, and land in S3 byte for byte."""

from __future__ import annotations

import os
import time

from conftest import det_bytes, put_many, wait_until
from faults import free_port
from observe import Scrape
from writes import assert_object, keys_under, rw, wkey  # noqa: F401 - rw, wkey are fixtures


def operations(port: int, name: str) -> float:
    return Scrape(port).value("s3mount_fuse_operation_duration_seconds_count", operation=name)


def lists(port: int) -> float:
    return Scrape(port).value("s3mount_s3_requests_total", operation="list", status="2xx")


def test_a_writable_mount_leases_listed_names_and_shows_its_own_changes_at_once(rw, s3, env, wkey):
    files = {f"f{i:02d}.bin": det_bytes(f"w-lease/{i}", 9_000 + 317 * i) for i in range(30)}
    put_many(s3, env.bucket, {wkey + k: v for k, v in files.items()})
    port = free_port()
    m = rw("--metadata-ttl", "1", "--metadata-lease", "60", "--metrics-address", f"127.0.0.1:{port}")
    names = sorted(os.listdir(m.path))  # a complete listing: lookups of its names are answered with leases
    assert names == sorted(files)

    def read_all(expected: dict[str, bytes]) -> None:
        for name, data in expected.items():
            with open(m.p(name), "rb") as f:
                assert f.read() == data, name

    def after_the_ttl() -> None:
        # The TTL runs out; the daemon lists the directory again to keep its leases (what the kernel does not ask).
        since, before = time.monotonic(), lists(port)
        assert wait_until(lambda: time.monotonic() - since > 1.5 and lists(port) > before, 15), \
            "the leased directory was never listed again"

    read_all(files)
    after_the_ttl()
    looked_up = operations(port, "lookup")
    read_all(files)  # Python's open() stats the file: after reads from s3mount the kernel asks for its attributes
    assert operations(port, "lookup") == looked_up, "the second pass after the TTL still sent lookups"
    after_the_ttl()
    asked = operations(port, "getattr")
    read_all(files)
    assert operations(port, "lookup") == looked_up, "the third pass after the TTL still sent lookups"
    # (the directory's own attributes keep the TTL: the path walk may ask for them once)
    assert operations(port, "getattr") - asked <= 2, "attributes asked again after the TTL were not leased"

    # The mount's own changes, through leased names: visible at once, without waiting for a TTL or an upload.
    rewritten, removed, moved = "f03.bin", "f04.bin", "f05.bin"
    new = det_bytes("w-lease/rewritten", 4_099)
    with open(m.p(rewritten), "wb") as f:
        f.write(new)
    with open(m.p(rewritten), "rb") as f:
        assert f.read() == new
    assert os.path.getsize(m.p(rewritten)) == len(new)
    os.unlink(m.p(removed))
    assert not os.path.exists(m.p(removed))
    os.rename(m.p(moved), m.p("g05.bin"))
    assert not os.path.exists(m.p(moved))
    with open(m.p("g05.bin"), "rb") as f:
        assert f.read() == files[moved]

    # A change made in S3 by someone else is still taken back from the kernel within about a TTL.
    remote, remote_new = "f06.bin", det_bytes("w-lease/remote", 5_123)
    s3.put_object(Bucket=env.bucket, Key=wkey + remote, Body=remote_new)
    changed_at = time.monotonic()

    def reads_new() -> bool:
        with open(m.p(remote), "rb") as f:
            data = f.read()
        assert data in (files[remote], remote_new), "a read mixed the two versions"
        return data == remote_new

    assert wait_until(reads_new, 10, interval=0.05), "the object replaced in S3 never showed: its lease was kept"
    assert time.monotonic() - changed_at < 5, "the change in S3 showed later than a few TTLs"

    # Once the mount's own upload lands, the keeper takes the old name of the rewritten file back: its reads stay new.
    assert wait_until(lambda: s3.head_object(Bucket=env.bucket, Key=wkey + rewritten)["ContentLength"] == len(new), 30)
    after_the_ttl()
    with open(m.p(rewritten), "rb") as f:
        assert f.read() == new
    m.unmount_drained()

    assert_object(s3, env.bucket, wkey + rewritten, new)
    assert_object(s3, env.bucket, wkey + "g05.bin", files[moved])
    assert_object(s3, env.bucket, wkey + remote, remote_new)
    left = set(keys_under(s3, env.bucket, wkey))
    assert wkey + removed not in left and wkey + moved not in left
