"""Support for the failover tests: the testbed's gateways as processes to kill, stop and restart; the
fault-injecting proxy (faultproxy.py); the mount's --stats-file; and reader workloads that check every byte and
time every system call.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from conftest import KiB, MiB, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CEPH_SH = os.path.join(REPO, "scripts", "testbed", "ceph.sh")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gateway_urls() -> list[str]:
    """The testbed's gateways (S3_ENDPOINTS); the fault matrix needs two of one cluster and fails without them."""
    urls = os.environ.get("S3_ENDPOINTS", "").split()
    if len(urls) < 2 or not os.environ.get("S3MOUNT_TESTBED"):
        pytest.fail("the failover tests need the Ceph testbed's two gateways: S3_ENDPOINTS and S3MOUNT_TESTBED "
                    '(eval "$(scripts/testbed/ceph.sh env)")', pytrace=False)
    return urls


class Gateway:
    """One radosgw of the testbed, by port: its PID comes from the testbed's pid file."""

    def __init__(self, url: str):
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        self.testbed = os.environ["S3MOUNT_TESTBED"]

    @property
    def pid(self) -> int:
        with open(os.path.join(self.testbed, "pids", f"rgw.p{self.port}")) as f:
            return int(f.read().strip())

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/", timeout=2):
                return True
        except OSError as e:
            return getattr(e, "code", None) is not None  # an HTTP error status is still an answer

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)

    def stop(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def restart(self) -> None:
        """Start it again (kill first if it still runs); returns once it answers."""
        r = subprocess.run(["bash", CEPH_SH, "restart-rgw", str(self.port)], capture_output=True, text=True,
                           timeout=180, env=dict(os.environ, S3MOUNT_TESTBED=self.testbed))
        assert r.returncode == 0, f"restart-rgw {self.port} failed: {r.stderr[-2000:]}"

    def ensure_up(self) -> None:
        with contextlib.suppress(ProcessLookupError, FileNotFoundError, ValueError):
            self.resume()
        if not wait_until(self.answers, 3, interval=0.2):
            self.restart()


class FaultProxy:
    """faultproxy.py on a free port in front of `upstream`; `set(mode=..., ...)` switches its mode."""

    def __init__(self, upstream: int, workdir: str):
        self.port = free_port()
        self.upstream = upstream
        self.control = os.path.join(workdir, f"proxy-{self.port}.json")
        self.process: subprocess.Popen | None = None
        self.generation = 0
        self.write(mode="pass")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write(self, **mode) -> None:
        self.generation += 1
        tmp = self.control + ".tmp"
        with open(tmp, "w") as f:
            json.dump({**mode, "generation": self.generation}, f)
        os.replace(tmp, self.control)

    def acknowledged(self) -> None:
        """Wait for the proxy to say the last mode written is in force (every open connection was reset)."""
        while True:
            line = self.process.stdout.readline()
            assert line, "faultproxy.py exited"
            if line.split() == ["mode", str(self.generation)]:
                return

    def set(self, **mode) -> None:
        """Switch the running proxy's mode; returns once the proxy applies it."""
        self.write(**mode)
        self.acknowledged()

    def start(self) -> FaultProxy:
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "faultproxy.py"), str(self.port), str(self.upstream), self.control],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.process.stdout.readline().strip() == "listening", "faultproxy.py did not start"
        self.acknowledged()
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Stats:
    """The mount's --stats-file (rewritten every second by the daemon)."""

    def __init__(self, path: str):
        self.path = path

    def read(self) -> dict:
        with open(self.path) as f:
            return json.load(f)

    def endpoint(self, url: str, snapshot: dict | None = None) -> dict:
        snapshot = snapshot or self.read()
        (entry,) = [e for e in snapshot["endpoints"] if e["endpoint"].rstrip("/") == url.rstrip("/")]
        return entry

    def requests(self, snapshot: dict | None = None) -> dict[str, int]:
        snapshot = snapshot or self.read()
        return {e["endpoint"].rstrip("/"): e["requests"] for e in snapshot["endpoints"]}

    def wait_fresh(self, timeout: float = 5) -> dict:
        """A snapshot written after this call (the file's mtime moved)."""
        before = os.stat(self.path).st_mtime_ns if os.path.exists(self.path) else 0
        assert wait_until(lambda: os.path.exists(self.path) and os.stat(self.path).st_mtime_ns != before, timeout), \
            f"{self.path} was not rewritten within {timeout} s"
        return self.read()


class Workload:
    """Readers in threads; every read is checked and every system call timed (`longest`); failures collected."""

    def __init__(self):
        self.lock = threading.Lock()
        self.failures: list[str] = []
        self.longest = 0.0
        self.done = 0
        self.total = 1
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def timed(self, fn, *args):
        started = time.monotonic()
        try:
            return fn(*args)
        finally:
            elapsed = time.monotonic() - started
            with self.lock:
                self.longest = max(self.longest, elapsed)

    def fail(self, message: str) -> None:
        with self.lock:
            self.failures.append(message)

    def progress(self) -> float:
        with self.lock:
            return self.done / self.total

    def start(self, workers) -> Workload:
        def guarded(work):
            try:
                work()
            except Exception as e:  # noqa: BLE001 - a reader's exception is a failed read, reported by check()
                self.fail(f"{type(e).__name__}: {e}")

        self.threads = [threading.Thread(target=guarded, args=(w,), daemon=True) for w in workers]
        for t in self.threads:
            t.start()
        return self

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in self.threads), f"readers still running after {timeout} s"

    def finish(self, timeout: float = 60) -> None:
        self.stop_event.set()
        self.join(timeout)

    def check(self) -> None:
        assert not self.failures, f"{len(self.failures)} failed reads, first: {self.failures[:3]}"


def sequential_read(path: str, size: int, sha256: str, chunk: int = MiB) -> Workload:
    """One reader of a whole file, chunk by chunk."""
    w = Workload()
    w.total = size

    def read():
        h = hashlib.sha256()
        fd = w.timed(os.open, path, os.O_RDONLY)
        try:
            while True:
                b = w.timed(os.read, fd, chunk)
                if not b:
                    break
                h.update(b)
                with w.lock:
                    w.done += len(b)
        finally:
            os.close(fd)
        if w.done != size or h.hexdigest() != sha256:
            w.fail(f"{path}: read {w.done} bytes, sha256 {h.hexdigest()}, expected {size} bytes {sha256}")

    return w.start([read])


def small_file_readers(root: str, files: dict[str, str], readers: int = 16) -> Workload:
    """`readers` threads sharing the files (relative path -> sha256), each opening and reading whole files."""
    w = Workload()
    names = sorted(files)
    w.total = len(names)

    def read(mine: list[str]):
        for name in mine:
            fd = w.timed(os.open, os.path.join(root, name), os.O_RDONLY)
            try:
                h = hashlib.sha256()
                while b := w.timed(os.read, fd, 256 * KiB):
                    h.update(b)
            finally:
                os.close(fd)
            if h.hexdigest() != files[name]:
                w.fail(f"{name}: sha256 {h.hexdigest()}, expected {files[name]}")
            with w.lock:
                w.done += 1

    return w.start([lambda mine=names[i::readers]: read(mine) for i in range(readers)])


def random_reads(path: str, local: str, size: int, readers: int = 4, count: int | None = None,
                 read_size: int = 4 * KiB, seed: int = 0, uncached: bool = False) -> Workload:
    """`readers` threads of page-aligned random preads of `path`, each compared with the same range of `local`;
    `count` reads per thread, or until finish(). `latencies` has every read's time. With `uncached`, the kernel's
    copy of each range is dropped first, so reads reach s3mount (and, past its cache, S3) even on a file read
    before."""
    w = Workload()
    w.total = readers * (count or 1)
    w.latencies = []

    def read(index: int):
        rng = random.Random(f"{seed}/{index}")
        fd = os.open(path, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
        source = os.open(local, os.O_RDONLY)
        try:
            n = 0
            while (count is None and not w.stop_event.is_set()) or (count is not None and n < count):
                offset = rng.randrange(0, (size - read_size) // 4096) * 4096
                if uncached:
                    os.posix_fadvise(fd, offset, read_size, os.POSIX_FADV_DONTNEED)
                started = time.monotonic()
                got = os.pread(fd, read_size, offset)
                elapsed = time.monotonic() - started
                with w.lock:
                    w.latencies.append(elapsed)
                    w.longest = max(w.longest, elapsed)
                    w.done += 1
                if got != os.pread(source, read_size, offset):
                    w.fail(f"{path}: wrong bytes at {offset}")
                n += 1
        finally:
            os.close(fd)
            os.close(source)

    return w.start([lambda i=i: read(i) for i in range(readers)])


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

