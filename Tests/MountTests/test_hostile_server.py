"""A mount of a misbehaving S3 server (hostile_s3.py, issue 13 "Hardening"): wrong ranges never become data, a
listing that never ends fails with EIO instead of hanging, one bad LIST entry hides or repairs only itself,
SIGTERM with reads stuck on a slow server exits 0 promptly, and a closed stderr pipe does not kill the daemon.

Each test mounts its own HostileS3 (threads of this process, 127.0.0.1, a free port); the testbed env is needed
only because conftest insists on it. Bytes are compared by sha256, never by eye.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import random
import signal
import subprocess
import threading
import time

import pytest

from conftest import MiB, is_mounted, mount_fstype, wait_until
from hostile_s3 import GET_FAULTS, HostileS3

FAILED = (errno.EIO, errno.ESTALE)
SIZE = 3 * MiB + 333  # four 1 MiB blocks, the last one short


def data_for(name: str, size: int = SIZE) -> bytes:
    return random.Random(name).randbytes(size)


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@pytest.fixture
def server():
    s = HostileS3().start()
    yield s
    s.stop()


def mount(mounter, server: HostileS3, *options: str):
    return mounter.mount(server.bucket, "--endpoint", server.url, "--block-size", "1M", *options, endpoint=False)


def read_all(path: str) -> tuple[bytes, OSError | None]:
    """Everything a sequential reader gets, and the error that stopped it (if any)."""
    out = bytearray()
    try:
        with open(path, "rb", buffering=0) as f:
            while chunk := f.read(256 * 1024):
                out += chunk
    except OSError as e:
        return bytes(out), e
    return bytes(out), None


def read_random(path: str, spots: list[tuple[int, int]]) -> tuple[list[bytes], OSError | None]:
    """preads at `spots` (offset, size), the first away from 0 so the mount sees a random reader."""
    got = []
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            for offset, size in spots:
                got.append(os.pread(fd, size, offset))
        finally:
            os.close(fd)
    except OSError as e:
        return got, e
    return got, None


def run_all(jobs: dict[str, callable]) -> dict[str, object]:
    results: dict[str, object] = {}

    def run(name, job):
        results[name] = job()

    threads = [threading.Thread(target=run, args=item, daemon=True) for item in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [t for t in threads if t.is_alive()], "a reader is still blocked after 60 s"
    return results


SPOTS = [(4096, 128 * 1024), (2 * MiB + 17, 100_000), (SIZE - 5000, 5000)]


def test_a_wrong_range_once_is_retried_and_the_bytes_are_right(mounter, server):
    """The first GET of each file answers with another range (or no range, or a 200, or absurd numbers): the read
    must come back with the object's own bytes. Had the wrong answer reached the block buffer, the retry would
    continue after it and the file's checksum would differ. One lie cannot be told from a short object by the
    store alone (a 200 holding just the range, as if it were the whole object): the filesystem, which knows the
    object is longer, refuses it with EIO, so for that one a random read may fail, but never with wrong bytes."""
    files = {}
    for kind in GET_FAULTS:
        for path in ("seq", "rand"):
            name = f"{kind}-{path}"
            files[name] = data_for(name)
            server.put(f"once/{name}", files[name])
            server.fault(f"once/{name}", kind, 1)
    m = mount(mounter, server)
    jobs = {}
    for kind in GET_FAULTS:
        jobs[f"{kind}-seq"] = lambda kind=kind: read_all(m.p("once", f"{kind}-seq"))
        jobs[f"{kind}-rand"] = lambda kind=kind: read_random(m.p("once", f"{kind}-rand"), SPOTS)
    results = run_all(jobs)
    for kind in GET_FAULTS:
        got, error = results[f"{kind}-seq"]
        assert error is None, f"{kind}: sequential read failed: {error}"
        assert sha(got) == sha(files[f"{kind}-seq"]), f"{kind}: sequential read returned wrong bytes"
        pieces, error = results[f"{kind}-rand"]
        if kind == "partial_200" and error is not None:
            assert error.errno in FAILED, f"{kind}: {error}"
        else:
            assert error is None, f"{kind}: random read failed: {error}"
        want = files[f"{kind}-rand"]
        for (offset, size), piece in zip(SPOTS, pieces):
            assert sha(piece) == sha(want[offset:offset + size]), f"{kind}: pread({offset}, {size}) wrong bytes"
    assert all(server.faults[f"once/{name}".encode()][1] == 0 for name in files), "a fault was never served"


def test_a_wrong_range_always_is_an_error_never_data(mounter, server):
    """Every GET of the file is wrong: the reader gets EIO (after the retries), and whatever it got before is a
    true prefix of the object."""
    files = {}
    for kind in GET_FAULTS:
        files[kind] = data_for(kind)
        server.put(f"always/{kind}", files[kind])
        server.fault(f"always/{kind}", kind, None)
    server.put("always/good", data_for("good"))
    m = mount(mounter, server)
    got, error = read_all(m.p("always", "good"))
    assert error is None and sha(got) == sha(data_for("good"))
    start = time.monotonic()
    results = run_all({kind: lambda kind=kind: read_all(m.p("always", kind)) for kind in GET_FAULTS})
    for kind in GET_FAULTS:
        got, error = results[kind]
        assert error is not None, f"{kind}: a read of wrong ranges succeeded ({len(got)} bytes)"
        assert error.errno in FAILED, f"{kind}: {error}"
        assert sha(got) == sha(files[kind][:len(got)]), f"{kind}: wrong bytes before the error"
    assert time.monotonic() - start < 30
    assert mount_fstype(m.path) == "fuse.s3mount", "the daemon died"


def test_a_repeating_continuation_token_fails_the_listing(mounter, server, tmp_path):
    for i in range(5):
        server.put(f"loop/f{i}", b"x")
        server.put(f"fine/f{i}", b"y")
    server.repeat_token.add(b"loop/")
    log = tmp_path / "daemon.log"
    m = mount(mounter, server, "--log-file", str(log))
    ls = subprocess.run(["ls", m.p("loop")], capture_output=True, text=True, timeout=30)
    assert ls.returncode != 0, f"ls of an endless listing succeeded: {ls.stdout!r}"
    assert "Input/output error" in ls.stderr, ls.stderr
    assert sorted(os.listdir(m.p("fine"))) == [f"f{i}" for i in range(5)], "the daemon stopped serving"
    lines = [line for line in log.read_text().splitlines() if "never ends" in line]
    assert len(lines) == 1, f"want one log line for the endless listing, got {lines}"


def test_a_bad_date_in_one_entry_neither_fails_the_mount_nor_the_listing(mounter, server, tmp_path):
    # "a-bad" sorts first: the mount-time check (one LIST, max-keys 1) sees it.
    server.put("a-bad", data_for("a-bad", 1000))
    server.put("b-good", data_for("b-good", 1000))
    server.bad_dates.add(b"a-bad")
    log = tmp_path / "daemon.log"
    m = mount(mounter, server, "--log-file", str(log))
    for _ in range(2):
        assert sorted(os.listdir(m.path)) == ["a-bad", "b-good"]
    assert os.stat(m.p("a-bad")).st_mtime == 0
    assert os.stat(m.p("b-good")).st_mtime == 1704164645
    with open(m.p("a-bad"), "rb") as f:
        assert sha(f.read()) == sha(data_for("a-bad", 1000))
    lines = [line for line in log.read_text().splitlines() if "a-bad" in line]
    assert len(lines) == 1 and "warning" in lines[0], lines


def test_a_key_that_is_not_utf8_or_holds_an_escape_is_hidden_alone(mounter, server, tmp_path):
    names = [f"k{i:04d}" for i in range(998)]
    for name in names:
        server.put(f"many/{name}", name.encode())
    server.put(b"many/bad-\xff\xfe", b"not utf-8")
    server.put("many/esc-\x1b[31mred", b"escape")
    log, stats = tmp_path / "daemon.log", tmp_path / "stats.json"
    m = mount(mounter, server, "--log-file", str(log), "--stats-file", str(stats), "--max-connections", "4")
    for _ in range(2):
        assert sorted(os.listdir(m.p("many"))) == names
    with open(m.p("many", "k0500"), "rb") as f:
        assert f.read() == b"k0500"
    warnings = [line for line in log.read_text().splitlines() if "hiding key" in line]
    assert len(warnings) == 2, warnings
    assert any("bad-%FF%FE" in line for line in warnings), warnings
    assert any("esc-\\u{1B}[31mred" in line for line in warnings), warnings
    assert "\x1b" not in log.read_text(), "an escape sequence reached the log"
    assert wait_until(lambda: stats.exists() and json.loads(stats.read_text())["endpoints"], 5)
    (endpoint,) = json.loads(stats.read_text())["endpoints"]
    assert endpoint["errors"] == 0 and endpoint["state"] == "closed", endpoint


def start_foreground(mounter, server, *options: str, stderr=subprocess.DEVNULL) -> tuple[subprocess.Popen, str]:
    mp = mounter.mountpoint()
    proc = subprocess.Popen(
        [mounter.env.binary, "--foreground", "--endpoint", server.url, "--block-size", "1M", *options,
         server.bucket, mp],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr, env=mounter.env.child_env())
    appeared = wait_until(lambda: is_mounted(mp) or proc.poll() is not None, 30)
    if not appeared or proc.poll() is not None:
        proc.kill()
        pytest.fail(f"foreground s3mount exited {proc.poll()} before mounting")
    return proc, mp


def test_lookups_of_names_in_one_directory_reach_the_server_at_once(mounter, server):
    """The kernel runs lookups in one directory one at a time unless the INIT reply allows parallel dirops, which
    libfuse before 3.16 never passes on (CSystem's fuse_init_flags.c). Eight processes opening eight never-seen
    files of one directory must not queue: with every LIST taking 0.4 s, several are answered at once. (Three at
    most: the third name S3 has to answer within a second starts a listing of the directory, which the other
    lookups wait for; serialised, they would reach the server one at a time.)"""
    for i in range(8):
        server.put(f"d/f{i}", data_for(f"f{i}", 1000 + i))
    mnt = mount(mounter, server).path
    assert os.path.isdir(os.path.join(mnt, "d"))
    server.list_delay = 0.4
    sizes: dict[int, int] = {}

    def look(i: int) -> None:
        sizes[i] = os.stat(os.path.join(mnt, "d", f"f{i}")).st_size

    threads = [threading.Thread(target=look, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sizes == {i: 1000 + i for i in range(8)}
    assert server.lists_at_once >= 3, f"lookups reached the server {server.lists_at_once} at a time"


def test_sigterm_with_16_readers_stuck_on_a_slow_server_exits_0_promptly(mounter, server):
    for i in range(16):
        server.put(f"slow/f{i:02d}", data_for(f"slow{i}"))
    proc, mp = start_foreground(mounter, server)
    try:
        server.hold_gets = True
        outcomes: dict[int, object] = {}

        def reader(i: int) -> None:
            outcomes[i] = read_all(os.path.join(mp, "slow", f"f{i:02d}"))

        threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(16)]
        for t in threads:
            t.start()
        assert server.wait_for_held_gets(16, 30), f"only {server.gets_held} GETs reached the server"
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=10)
        elapsed = time.monotonic() - start
        assert rc == 0, f"s3mount exited {rc} on SIGTERM"
        assert elapsed < 10, f"exit took {elapsed:.1f} s"
        assert not is_mounted(mp), "SIGTERM: the process exited but left the mount"
        for t in threads:
            t.join(10)
        assert not [t for t in threads if t.is_alive()], "a reader is still blocked after the daemon exited"
        for i, (got, error) in outcomes.items():
            assert error is not None, f"reader {i} finished without its bytes ever being sent"
            assert sha(got) == sha(data_for(f"slow{i}")[:len(got)]), f"reader {i}: wrong bytes"
    finally:
        server.release.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_a_closed_stderr_pipe_does_not_kill_the_daemon(mounter, server):
    server.put("data/file", data_for("file"))
    server.put(b"data/bad-\xff", b"x")
    proc, mp = start_foreground(mounter, server, "--log-level", "debug", stderr=subprocess.PIPE)
    try:
        proc.stderr.close()  # nobody reads the daemon's log any more: its next write meets EPIPE
        assert os.listdir(os.path.join(mp, "data")) == ["file"]  # logs a warning for the hidden key
        for _ in range(3):
            with pytest.raises(FileNotFoundError):
                os.stat(os.path.join(mp, "data", "missing"))  # logs at debug
        got, error = read_all(os.path.join(mp, "data", "file"))
        assert error is None, error
        assert sha(got) == sha(data_for("file"))
        assert proc.poll() is None, f"the daemon died (status {proc.returncode}) writing to a closed pipe"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert not is_mounted(mp)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_an_object_without_an_etag_reads_right_and_is_never_pinned_to_an_empty_version(mounter, server, tmp_path):
    data = data_for("no-etag")
    server.put("no-etag", data)
    server.no_etag.add(b"no-etag")
    log = tmp_path / "daemon.log"
    m = mount(mounter, server, "--log-file", str(log))
    assert "no-etag" in os.listdir(m.path)
    got, error = read_all(m.p("no-etag"))
    assert error is None, error
    assert sha(got) == sha(data)
    with open(m.p("no-etag"), "rb") as f:  # a random read too
        f.seek(2 * MiB + 5)
        assert f.read(1000) == data[2 * MiB + 5: 2 * MiB + 1005]
    assert server.if_match_seen == [], f"reads sent If-Match {server.if_match_seen!r} for an object with no ETag"
    assert mount_fstype(m.path) == "fuse.s3mount"
