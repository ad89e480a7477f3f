"""Prometheus metrics (issue 12): --metrics-address serves /metrics, parsed here by prometheus_client's text
parser. Bytes are counted where they came from (S3 on a first read, memory on a repeated one), every read's
stall lands in a histogram, an endpoint that dies shows in its breaker state, and without the option nothing
listens.
"""

from __future__ import annotations

import mmap
import os
import random

import pytest

from conftest import MiB, det_bytes, live_daemons, mount_fstype, wait_until
from faults import FaultProxy, free_port
from observe import Scrape, listening_tcp_ports, status_json

BLOCK = 8 * MiB
SIZE = 5 * MiB + 12345


@pytest.fixture(scope="module")
def objects(s3, env, prefix):
    """metrics/one.bin (SIZE bytes) and metrics/big.bin (2 blocks), with their bytes."""
    data = {"one.bin": det_bytes("metrics/one", SIZE), "big.bin": det_bytes("metrics/big", 2 * BLOCK)}
    for name, body in data.items():
        s3.put_object(Bucket=env.bucket, Key=f"{prefix}metrics/{name}", Body=body)
    return data


def mount_with_metrics(mounter, env, prefix, *options):
    """A read-only mount of metrics/ (several may run at once) serving /metrics on a free port."""
    port = free_port()
    m = mounter.mount(f"{env.bucket}:{prefix}metrics", "--metrics-address", f"127.0.0.1:{port}",
                      "--no-dataset-read-ahead", "--read-only", *options)
    return m, port


def read_direct(path: str, size: int) -> bytes:
    """Reads the whole file with O_DIRECT (1 MiB at a time, into an aligned buffer): every read reaches s3mount."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
    out = bytearray()
    try:
        buffer = mmap.mmap(-1, MiB)
        while len(out) < size:
            n = os.preadv(fd, [buffer], len(out))
            if n == 0:
                break
            out += buffer[:n]
    finally:
        os.close(fd)
    return bytes(out)


def test_a_first_read_counts_its_bytes_from_s3_and_its_stall(mounter, env, prefix, objects):
    m, port = mount_with_metrics(mounter, env, prefix)
    before = Scrape(port)
    with open(m.p("one.bin"), "rb") as f:
        assert f.read() == objects["one.bin"]
    after = Scrape(port)

    received = after.value("s3mount_s3_received_bytes_total") - before.value("s3mount_s3_received_bytes_total")
    assert SIZE <= received < SIZE + BLOCK, received
    served = sum(after.value("s3mount_read_bytes_total", source=s) - before.value("s3mount_read_bytes_total", source=s)
                 for s in ("memory", "s3", "staging"))
    assert served == SIZE
    assert after.value("s3mount_read_bytes_total", source="s3") > before.value("s3mount_read_bytes_total", source="s3")
    assert after.value("s3mount_read_stall_seconds_count") > before.value("s3mount_read_stall_seconds_count")
    assert after.value("s3mount_read_stall_seconds_sum") > before.value("s3mount_read_stall_seconds_sum")
    assert after.value("s3mount_fuse_operation_duration_seconds_count", operation="read") > 0
    assert after.value("s3mount_s3_requests_total", operation="get", status="2xx") >= 1
    # every series names its mount
    mounts = {labels.get("mount") for labels in after.labels("s3mount_read_bytes_total")}
    assert mounts == {os.path.realpath(m.path)}


def test_a_repeated_read_is_served_from_memory(mounter, env, prefix, objects):
    m, port = mount_with_metrics(mounter, env, prefix)
    assert read_direct(m.p("one.bin"), SIZE) == objects["one.bin"]
    before = Scrape(port)
    assert read_direct(m.p("one.bin"), SIZE) == objects["one.bin"]
    after = Scrape(port)

    assert after.value("s3mount_read_bytes_total", source="memory") - before.value(
        "s3mount_read_bytes_total", source="memory") == SIZE
    assert after.value("s3mount_read_bytes_total", source="s3") == before.value("s3mount_read_bytes_total", source="s3")
    assert after.value("s3mount_s3_received_bytes_total") == before.value("s3mount_s3_received_bytes_total")
    # reads answered from memory did not stall: they are in the 0 bucket
    zero = after.value("s3mount_read_stall_seconds_bucket", le="0.0") - before.value(
        "s3mount_read_stall_seconds_bucket", le="0.0")
    assert zero == after.value("s3mount_read_stall_seconds_count") - before.value("s3mount_read_stall_seconds_count") > 0


def test_state_gauges_are_published_at_scrape_time(mounter, env, prefix, objects):
    m, port = mount_with_metrics(mounter, env, prefix, "--memory-limit", "256M")
    # Scraped while the handle is open and after the whole file went through memory: the blocks (or the pooled
    # buffers they went back to) are held in the budget. After the close a reader's blocks may all be gone, and a
    # first read the kernel's read-ahead reordered is served outside the budget (one ranged GET), so a scrape
    # after a partial read could rightly see 0.
    with open(m.p("big.bin"), "rb") as f:
        assert f.read() == objects["big.bin"]
        scrape = Scrape(port)
    assert scrape.value("s3mount_memory_limit_bytes") == 256 * MiB
    assert 0 < scrape.value("s3mount_memory_used_bytes") <= 256 * MiB
    assert scrape.value("s3mount_endpoint_up", endpoint=env.endpoint) == 1
    assert scrape.value("s3mount_endpoint_breaker_state", endpoint=env.endpoint, state="closed") == 1
    assert scrape.value("s3mount_endpoint_concurrency_limit", endpoint=env.endpoint) == 32
    assert scrape.value("s3mount_uploads_pending_files") == 0
    assert scrape.value("s3mount_metadata_requests_total", result="miss") >= 1


def test_a_dead_endpoint_opens_its_breaker_and_status_says_it_is_down(mounter, env, prefix, objects, tmp_path):
    proxy = FaultProxy(int(env.endpoint.rsplit(":", 1)[1]), str(tmp_path)).start()
    try:
        port = free_port()
        m = mounter.mount(f"{env.bucket}:{prefix}metrics", "--metrics-address", f"127.0.0.1:{port}",
                          "--no-dataset-read-ahead", "--endpoint", proxy.url)
        assert Scrape(port).value("s3mount_endpoint_up", endpoint=proxy.url) == 1
        proxy.stop()  # the gateway behind this URL is gone: connections are refused
        big = objects["big.bin"]
        rng = random.Random(12)

        def proxy_is_open() -> bool:
            # random 4 KiB O_DIRECT reads: each one is a GET, spread over both endpoints
            fd = os.open(m.p("big.bin"), os.O_RDONLY | os.O_DIRECT)
            try:
                buffer = mmap.mmap(-1, 4096)
                for _ in range(8):
                    offset = rng.randrange(0, len(big) // 4096) * 4096
                    assert os.preadv(fd, [buffer], offset) == 4096
                    assert buffer[:] == big[offset:offset + 4096]
            finally:
                os.close(fd)
            return Scrape(port).value("s3mount_endpoint_breaker_state", endpoint=proxy.url, state="open") == 1

        assert wait_until(proxy_is_open, 60, interval=0.1), Scrape(port).text
        scrape = Scrape(port)
        assert scrape.value("s3mount_endpoint_up", endpoint=proxy.url) == 0
        assert scrape.value("s3mount_endpoint_up", endpoint=env.endpoint) == 1
        assert scrape.value("s3mount_s3_requests_total", endpoint=proxy.url, status="network") >= 3

        (document,) = status_json(env.binary, m.path)
        states = {e["endpoint"]: (e["state"], e["up"]) for e in document["endpoints"]}
        assert states[proxy.url] == ("open", False), states
        assert states[env.endpoint] == ("closed", True), states
    finally:
        proxy.stop()


def test_uploaded_bytes_are_counted(mounter, s3, env, prefix, tmp_path):
    """A file written and fsync'd (durable in S3 when fsync returns) adds its size to the upload counter, whose
    rate is the upload rate."""
    port = free_port()
    m = mounter.mount(f"{env.bucket}:{prefix}metrics-upload", "--metrics-address", f"127.0.0.1:{port}")
    before = Scrape(port)
    body = det_bytes("metrics/upload", 3 * MiB + 777)
    with open(m.p("written.bin"), "wb") as f:
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    after = Scrape(port)
    assert after.value("s3mount_upload_bytes_total") - before.value("s3mount_upload_bytes_total") == len(body)
    stored = s3.get_object(Bucket=env.bucket, Key=f"{prefix}metrics-upload/written.bin")["Body"].read()
    assert stored == body


def test_metrics_are_off_by_default(mounter, env, prefix, objects):
    plain = mounter.mount(f"{env.bucket}:{prefix}metrics", "--no-dataset-read-ahead", "--read-only")
    (pid,) = live_daemons(plain.path)
    assert listening_tcp_ports(pid) == []
    # the same check sees the socket when the option is given
    m, port = mount_with_metrics(mounter, env, prefix)
    (pid,) = live_daemons(m.path)
    assert listening_tcp_ports(pid) == [port]


def test_a_busy_metrics_address_fails_the_mount_with_one_line(mounter, env, prefix, objects):
    m, port = mount_with_metrics(mounter, env, prefix)
    mp = mounter.mountpoint()
    r = mounter.run(["--endpoint", env.endpoint, "--metrics-address", f"127.0.0.1:{port}", f"{env.bucket}:{prefix}", mp])
    assert r.returncode == 1
    assert r.stderr.strip() == (f"s3mount: error: cannot serve metrics on 127.0.0.1:{port}: the address is in use; "
                                "give another --metrics-address"), r.stderr
    assert mount_fstype(mp) is None


def test_closing_a_read_only_descriptor_costs_no_flush_and_a_written_one_does(mounter, env, prefix, objects):
    """FOPEN_NOFLUSH on read-only opens: close() of such a descriptor sends the daemon nothing (a flush would have
    nothing to do), while a descriptor that wrote is still flushed (close-to-open durability)."""
    port = free_port()
    m = mounter.mount(f"{env.bucket}:{prefix}metrics", "--metrics-address", f"127.0.0.1:{port}",
                      "--no-dataset-read-ahead")

    def count(scrape: Scrape, operation: str) -> float:
        return scrape.value("s3mount_fuse_operation_duration_seconds_count", operation=operation)

    before = Scrape(port)
    for _ in range(5):
        fd = os.open(m.p("one.bin"), os.O_RDONLY | os.O_DIRECT)
        try:
            buffer = mmap.mmap(-1, 4096)
            assert os.preadv(fd, [buffer], 0) == 4096 and bytes(buffer) == objects["one.bin"][:4096]
        finally:
            os.close(fd)
    after = Scrape(port)
    assert count(after, "open") - count(before, "open") == 5
    assert count(after, "flush") == count(before, "flush"), "a read-only close was flushed"

    with open(m.p("written-for-flush.bin"), "wb") as f:
        f.write(b"flushed at close")
    assert count(Scrape(port), "flush") > count(after, "flush"), "a descriptor that wrote was not flushed"
