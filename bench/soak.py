#!/usr/bin/env python3
"""soak: one s3mount mount under mixed reads and writes, with faults injected, for N minutes.

    eval "$(scripts/testbed/ceph.sh env)"
    nice python3 bench/soak.py --binary .build/release/s3mount --minutes 30 --out bench/work/soak

The mount reaches the testbed's gateways (S3_ENDPOINTS) through one Tests/MountTests/faultproxy.py each. Every
--fault-period seconds one proxy (never both, so the bucket stays reachable) takes the next fault of the cycle
for a while: +50 ms per request, 503 SlowDown, connection resets, bodies cut short, a hung gateway; then passes
again. Meanwhile, in threads:
  seq      reads a 192 MiB object whole in 1 MiB reads, sha256 checked (page cache dropped after each pass with
           POSIX_FADV_DONTNEED, so every pass reaches the daemon)
  random   2 readers of random ranges (4 KiB - 2 MiB) of that object, compared with its bytes
  small    2 readers of 300 small objects (1 - 256 KiB), sha256 checked
  list     lists the small-object directory and stats every name (names and sizes checked)
  write    creates files (4 KiB - 1 MiB, every 5th 12 - 40 MiB: multipart), writes, fsyncs half of them (and then
           checks the object in S3 itself), closes, reads back, renames, reads back, keeps the last 20 and unlinks
           the rest; at the end, after unmount (which drains uploads), S3 must hold exactly the kept files, byte
           for byte
A sampler writes the daemon's RSS, thread count and open fds every second to OUT/samples.csv.

Exit status 1 (FAIL) on any wrong byte or name, the daemon dying (or exiting non-zero), or RSS above
--memory-limit + --rss-slack. The slack (default 96 MiB) is what the daemon holds beyond the memory budget it
counts: code, libcurl/OpenSSL state and connections, the allocator's free lists, the write path's buffers; the
mounted memory test (test_memory_bound.py) bounds reads alone by the limit + 64 MiB, and the soak adds writes.
I/O errors (EIO from a fault that outlasted the retries) are counted by errno and reported, not failed on:
faults are meant to cost retries, and the report says how many reached the application.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import errno
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "Tests", "MountTests"))

from faults import FaultProxy  # noqa: E402  (the mounted tests' proxy driver)

MiB = 1024 * 1024
FAULTS = [
    {"mode": "delay", "ms": 50},
    {"mode": "slowdown"},
    {"mode": "reset"},
    {"mode": "truncate", "bytes": 300_000},
    {"mode": "hang"},
]


class Tally:
    """Counters shared by the workers: ops by kind, errors by errno, integrity failures (with the first few)."""

    def __init__(self, log):
        self.lock = threading.Lock()
        self.ops = collections.Counter()
        self.bytes = collections.Counter()
        self.errors = collections.Counter()
        self.wrong = collections.Counter()
        self.log = log

    def op(self, kind: str, nbytes: int = 0) -> None:
        with self.lock:
            self.ops[kind] += 1
            self.bytes[kind] += nbytes

    def error(self, kind: str, e: OSError) -> None:
        name = errno.errorcode.get(e.errno, str(e.errno))
        with self.lock:
            self.errors[f"{kind}:{name}"] += 1
            first = self.errors[f"{kind}:{name}"] <= 5
        if first:
            self.log(f"error {kind}: {e!r}")

    def mismatch(self, kind: str, what: str) -> None:
        with self.lock:
            self.wrong[kind] += 1
        self.log(f"WRONG {kind}: {what}")


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def read_whole(path: str, chunk: int = MiB) -> bytes:
    parts = []
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            b = os.read(fd, chunk)
            if not b:
                break
            parts.append(b)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return b"".join(parts)


class Soak:
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.started = time.monotonic()
        os.makedirs(args.out, exist_ok=True)
        self.log_file = open(os.path.join(args.out, "soak.log"), "a", buffering=1)
        self.tally = Tally(self.log)
        self.prefix = f"soak-{uuid.uuid4().hex[:10]}/"
        self.daemon_died: str | None = None
        self.samples: list[tuple[float, int, int, int]] = []
        self.kept: dict[str, str] = {}  # name under w/ -> sha256 of the file kept there
        self.abandoned: set[str] = set()  # names under w/ an I/O error left in doubt (not checked at the end)
        self.kept_lock = threading.Lock()

    def log(self, line: str) -> None:
        self.log_file.write(f"{time.monotonic() - self.started:8.1f} {line}\n")

    # ---- data -------------------------------------------------------------------------------------------------

    def s3(self, endpoint: str):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=endpoint, region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
                            config=Config(s3={"addressing_style": "path"}, max_pool_connections=16,
                                          retries={"max_attempts": 8, "mode": "standard"}))

    def upload_dataset(self, client) -> None:
        from concurrent.futures import ThreadPoolExecutor

        rnd = random.Random(7)
        self.big = rnd.randbytes(self.args.big_mib * MiB)
        self.small = {f"s{i:04d}.bin": rnd.randbytes(rnd.randint(1024, 256 * 1024)) for i in range(300)}
        bucket = os.environ["S3_BUCKET"]
        with ThreadPoolExecutor(8) as pool:
            jobs = [pool.submit(client.put_object, Bucket=bucket, Key=f"{self.prefix}small/{k}", Body=v)
                    for k, v in self.small.items()]
            jobs.append(pool.submit(client.upload_fileobj, __import__("io").BytesIO(self.big), bucket, f"{self.prefix}big.bin"))
            for j in jobs:
                j.result()
        self.small_sha = {k: sha(v) for k, v in self.small.items()}
        self.big_sha = sha(self.big)

    # ---- workers ----------------------------------------------------------------------------------------------

    def guarded(self, kind: str, step) -> None:
        while not self.stop.is_set():
            try:
                step()
            except OSError as e:
                self.tally.error(kind, e)
                self.stop.wait(0.2)

    def seq(self) -> None:
        data = read_whole(os.path.join(self.mnt, "big.bin"))
        self.tally.op("seq", len(data))
        if sha(data) != self.big_sha:
            self.tally.mismatch("seq", f"big.bin read whole: {len(data)} bytes, sha256 differs")

    def random_read(self, rnd: random.Random) -> None:
        with open(os.path.join(self.mnt, "big.bin"), "rb", buffering=0) as f:
            for _ in range(16):
                size = rnd.randint(4096, 2 * MiB)
                offset = rnd.randrange(0, len(self.big) - size)
                got = os.pread(f.fileno(), size, offset)
                self.tally.op("random", len(got))
                if got != self.big[offset:offset + size]:
                    self.tally.mismatch("random", f"big.bin [{offset}, +{size}) differs (got {len(got)} bytes)")
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)

    def small_read(self, rnd: random.Random) -> None:
        name = rnd.choice(list(self.small))
        data = read_whole(os.path.join(self.mnt, "small", name))
        self.tally.op("small", len(data))
        if sha(data) != self.small_sha[name]:
            self.tally.mismatch("small", f"small/{name}: {len(data)} bytes, sha256 differs")

    def listing(self) -> None:
        root = os.path.join(self.mnt, "small")
        names = sorted(os.listdir(root))
        self.tally.op("list")
        if names != sorted(self.small):
            self.tally.mismatch("list", f"small/ lists {len(names)} names, want {len(self.small)}")
        for entry in os.scandir(root):
            if entry.stat().st_size != len(self.small[entry.name]):
                self.tally.mismatch("list", f"small/{entry.name}: size {entry.stat().st_size}")
        self.stop.wait(0.5)

    def write_cycle(self, rnd: random.Random, direct) -> None:
        """One file's life; an I/O error part way leaves its names in doubt: they are unlinked if possible and
        left out of the final check (the error itself is counted)."""
        self.writes += 1
        n = self.writes
        names = [f"tmp-{n:06d}", f"f-{n:06d}"]
        try:
            self.write_file(rnd, direct, n)
        except OSError:
            with self.kept_lock:
                self.abandoned.update(names)
                self.kept.pop(names[1], None)
            for name in names:
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(self.mnt, "w", name))
            raise

    def write_file(self, rnd: random.Random, direct, n: int) -> None:
        size = rnd.randint(12 * MiB, 40 * MiB) if n % 5 == 0 else rnd.randint(4096, MiB)
        data = rnd.randbytes(size)
        digest = sha(data)
        wdir = os.path.join(self.mnt, "w")
        tmp, final = os.path.join(wdir, f"tmp-{n:06d}"), os.path.join(wdir, f"f-{n:06d}")
        fsynced = n % 2 == 0
        with open(tmp, "wb", buffering=0) as f:
            for i in range(0, size, MiB):
                f.write(data[i:i + MiB])
            if fsynced:
                os.fsync(f.fileno())
        self.tally.op("write", size)
        if fsynced:
            body = direct.get_object(Bucket=os.environ["S3_BUCKET"], Key=f"{self.prefix}w/tmp-{n:06d}")["Body"].read()
            self.tally.op("verify-s3", len(body))
            if sha(body) != digest:
                self.tally.mismatch("write", f"w/tmp-{n:06d} after fsync: S3 holds {len(body)} bytes, sha256 differs")
        back = read_whole(tmp)
        if sha(back) != digest:
            self.tally.mismatch("write", f"w/tmp-{n:06d} read back after close: {len(back)} of {size} bytes, differs")
        os.rename(tmp, final)
        self.tally.op("rename")
        back = read_whole(final)
        if sha(back) != digest:
            self.tally.mismatch("write", f"w/f-{n:06d} read back after rename: {len(back)} of {size} bytes, differs")
        with self.kept_lock:
            self.kept[f"f-{n:06d}"] = digest
            old = sorted(self.kept)[:-20]
        for name in old:
            with self.kept_lock:
                del self.kept[name]
                self.abandoned.add(name)
            os.unlink(os.path.join(wdir, name))
            self.tally.op("unlink")
            with self.kept_lock:
                self.abandoned.discard(name)

    # ---- faults, sampling ---------------------------------------------------------------------------------------

    def fault_cycle(self, proxies: list[FaultProxy]) -> None:
        i = 0
        while not self.stop.wait(self.args.fault_period / 2):
            proxy, fault = proxies[i % len(proxies)], FAULTS[i % len(FAULTS)]
            proxy.set(**fault)
            self.log(f"fault {fault} on {proxy.url}")
            self.tally.op("fault")
            self.stop.wait(self.args.fault_period / 2)
            proxy.set(mode="pass")
            i += 1

    def sample(self, pid: int, writer) -> None:
        while not self.stop.wait(1.0):
            try:
                with open(f"/proc/{pid}/status") as f:
                    status = dict(line.split(":", 1) for line in f if ":" in line)
                state = status["State"].split()[0]
                if state in ("Z", "X"):
                    raise FileNotFoundError
                rss = int(status["VmRSS"].split()[0])
                threads = int(status["Threads"])
                fds = len(os.listdir(f"/proc/{pid}/fd"))
            except (FileNotFoundError, ProcessLookupError, KeyError):
                self.daemon_died = f"the daemon (pid {pid}) is gone after {time.monotonic() - self.started:.0f} s"
                self.log(self.daemon_died)
                self.stop.set()
                return
            t = time.monotonic() - self.t0
            self.samples.append((t, rss, threads, fds))
            with self.tally.lock:
                ops, errs = sum(self.tally.ops.values()), sum(self.tally.errors.values())
            writer.writerow([f"{t:.1f}", rss, threads, fds, ops, errs])

    # ---- run ----------------------------------------------------------------------------------------------------

    def run(self) -> int:
        args = self.args
        endpoints = os.environ["S3_ENDPOINTS"].split()
        bucket = os.environ["S3_BUCKET"]
        direct = self.s3(endpoints[0])
        work = tempfile.mkdtemp(prefix="soak-", dir=args.out)
        self.mnt = os.path.join(work, "mnt")
        os.makedirs(self.mnt)
        proxies: list[FaultProxy] = []
        pid = None
        rc = 1
        try:
            self.log(f"uploading the data set under {self.prefix}")
            self.upload_dataset(direct)
            direct.put_object(Bucket=bucket, Key=f"{self.prefix}w/", Body=b"")
            proxies = [FaultProxy(int(url.rsplit(":", 1)[1]), work).start() for url in endpoints[:2]]
            mount_log = os.path.join(args.out, "s3mount.log")
            cmd = [args.binary, f"{bucket}:{self.prefix}", self.mnt, "--memory-limit", args.memory_limit,
                   "--cache-dir", os.path.join(work, "cache"), "--log-file", mount_log, "--log-level", "info"]
            for p in proxies:
                cmd += ["--endpoint", p.url]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                print(f"soak: the mount failed: {r.stderr.strip()}", file=sys.stderr)
                return 1
            pid = self.daemon_pid()
            self.log(f"mounted, daemon pid {pid}: {' '.join(cmd)}")
            self.t0 = time.monotonic()
            self.writes = 0
            seeds = iter(range(1000))
            workers = [
                ("seq", self.seq),
                *[("random", (lambda r: lambda: self.random_read(r))(random.Random(next(seeds)))) for _ in range(2)],
                *[("small", (lambda r: lambda: self.small_read(r))(random.Random(next(seeds)))) for _ in range(2)],
                ("list", self.listing),
                ("write", (lambda r: lambda: self.write_cycle(r, direct))(random.Random(next(seeds)))),
            ]
            threads = [threading.Thread(target=self.guarded, args=w, daemon=True) for w in workers]
            with open(os.path.join(args.out, "samples.csv"), "w", newline="", buffering=1) as f:
                writer = csv.writer(f)
                writer.writerow(["seconds", "rss_kib", "threads", "fds", "ops", "errors"])
                sampler = threading.Thread(target=self.sample, args=(pid, writer), daemon=True)
                faulter = threading.Thread(target=self.fault_cycle, args=(proxies,), daemon=True)
                for t in [sampler, faulter, *threads]:
                    t.start()
                deadline = self.t0 + args.minutes * 60
                while not self.stop.is_set() and time.monotonic() < deadline:
                    self.stop.wait(min(30, max(0, deadline - time.monotonic())))
                    self.progress()
                self.stop.set()
                for t in [faulter, *threads]:
                    t.join(timeout=120)
                sampler.join(timeout=10)
            for p in proxies:
                p.set(mode="pass")
            rc = self.finish(pid, direct, bucket)
        finally:
            subprocess.run(["fusermount3", "-u", self.mnt], capture_output=True)
            for p in proxies:
                p.stop()
            with contextlib.suppress(Exception):
                self.delete_prefix(direct, bucket)
        return rc

    def daemon_pid(self) -> int:
        for d in filter(str.isdigit, os.listdir("/proc")):
            with contextlib.suppress(OSError), open(f"/proc/{d}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
                if argv and argv[0].endswith(b"s3mount") and self.mnt.encode() in argv:
                    return int(d)
        raise RuntimeError("no s3mount daemon found for the mount")

    def progress(self) -> None:
        with self.tally.lock:
            ops = dict(self.tally.ops)
            errs = sum(self.tally.errors.values())
            wrong = sum(self.tally.wrong.values())
        rss = self.samples[-1][1] // 1024 if self.samples else 0
        print(f"soak: {time.monotonic() - self.t0:6.0f} s  rss {rss} MiB  ops {ops}  errors {errs}  wrong {wrong}",
              flush=True)

    def finish(self, pid: int, direct, bucket: str) -> int:
        """Unmount (uploads drain), check the daemon exited 0 and S3 holds exactly the kept files."""
        if self.daemon_died is None:
            r = subprocess.run(["fusermount3", "-u", self.mnt], capture_output=True, text=True)
            if r.returncode != 0:
                self.daemon_died = f"fusermount3 -u failed: {r.stderr.strip()}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and self.alive(pid):
                time.sleep(0.1)
            status = self.exit_status(pid)
            if self.alive(pid):
                self.daemon_died = "the daemon did not exit within 120 s of the unmount"
            elif status:
                self.daemon_died = f"the daemon exited with wait status {status} at unmount"
        listed = {}
        for page in direct.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{self.prefix}w/"):
            for obj in page.get("Contents", []):
                name = obj["Key"][len(self.prefix) + 2:]
                if name:
                    listed[name] = obj["Size"]
        extra = sorted(set(listed) - set(self.kept) - self.abandoned)
        missing = sorted(set(self.kept) - set(listed))
        if extra or missing:
            self.tally.mismatch("final", f"S3 w/ holds extra {extra[:10]} and lacks {missing[:10]}")
        self.log(f"final: {len(self.kept)} kept files checked in S3; {len(self.abandoned)} names left in doubt by errors")
        for name, digest in self.kept.items():
            if name in listed:
                body = direct.get_object(Bucket=bucket, Key=f"{self.prefix}w/{name}")["Body"].read()
                if sha(body) != digest:
                    self.tally.mismatch("final", f"w/{name} in S3 differs after the drain")
        return self.report()

    @staticmethod
    def alive(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except OSError:
            return False

    @staticmethod
    def exit_status(pid: int) -> int | None:
        """The wait status of an unreaped daemon (a zombie: PID 1 in this container does not reap), else None."""
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return int(fields[-1]) if fields[0] == "Z" else None

    def delete_prefix(self, client, bucket: str) -> None:
        keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=self.prefix)
                for o in page.get("Contents", [])]
        for i in range(0, len(keys), 1000):
            client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})

    def report(self) -> int:
        args = self.args
        limit_mib = parse_size(args.memory_limit) // MiB
        bound_mib = limit_mib + args.rss_slack
        rss = [s[1] / 1024 for s in self.samples]
        threads = [s[2] for s in self.samples]
        fds = [s[3] for s in self.samples]
        window = min(300.0, (self.samples[-1][0] / 3) if self.samples else 0)
        first = [s[1] / 1024 for s in self.samples if s[0] <= window]
        last = [s[1] / 1024 for s in self.samples if s[0] >= self.samples[-1][0] - window] if self.samples else []
        failures = []
        if sum(self.tally.wrong.values()):
            failures.append(f"wrong bytes or names: {dict(self.tally.wrong)}")
        if self.daemon_died:
            failures.append(self.daemon_died)
        if rss and max(rss) > bound_mib:
            failures.append(f"RSS peaked at {max(rss):.0f} MiB, above --memory-limit {limit_mib} MiB + slack {args.rss_slack} MiB")
        if not rss:
            failures.append("no RSS sample was taken")
        lines = [
            f"duration: {self.samples[-1][0] / 60 if self.samples else 0:.1f} min, memory limit {args.memory_limit}, "
            f"faults every {args.fault_period:.0f} s ({self.tally.ops['fault']} injected)",
            "ops: " + ", ".join(f"{k} {v}" for k, v in sorted(self.tally.ops.items()) if k != "fault"),
            "bytes: " + ", ".join(f"{k} {v / MiB:.0f} MiB" for k, v in sorted(self.tally.bytes.items()) if v),
            "errors by errno: " + (", ".join(f"{k} {v}" for k, v in sorted(self.tally.errors.items())) or "none"),
            "wrong bytes/names: " + (", ".join(f"{k} {v}" for k, v in sorted(self.tally.wrong.items())) or "none"),
        ]
        if rss:
            lines += [
                f"RSS MiB: min {min(rss):.0f}, median {statistics.median(rss):.0f}, max {max(rss):.0f} "
                f"(bound {bound_mib}); median of the first {window / 60:.1f} min {statistics.median(first):.0f}, "
                f"of the last {window / 60:.1f} min {statistics.median(last):.0f}, growth {statistics.median(last) - statistics.median(first):+.0f}",
                f"threads: min {min(threads)}, max {max(threads)}; open fds: min {min(fds)}, max {max(fds)}, "
                f"first {fds[0]}, last {fds[-1]}",
            ]
        lines.append("verdict: " + ("FAIL: " + "; ".join(failures) if failures else "PASS"))
        text = "\n".join(lines)
        print(text)
        with open(os.path.join(args.out, "summary.txt"), "w") as f:
            f.write(text + "\n")
        return 1 if failures else 0


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].upper() in units else int(text)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--binary", default=os.environ.get("S3MOUNT_BIN", os.path.join(REPO, ".build/release/s3mount")))
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--memory-limit", default="128M", help="the mount's --memory-limit (default 128M)")
    p.add_argument("--rss-slack", type=int, default=96, help="MiB of RSS allowed above the memory limit (96)")
    p.add_argument("--fault-period", type=float, default=40, help="seconds per fault cycle: half faulted, half not")
    p.add_argument("--big-mib", type=int, default=192, help="size of the object read sequentially and at random")
    p.add_argument("--out", default=os.path.join(REPO, "bench", "work", "soak"))
    args = p.parse_args()
    args.out = os.path.abspath(args.out)
    missing = [v for v in ("S3_ENDPOINTS", "S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if not os.environ.get(v)]
    if missing or len(os.environ.get("S3_ENDPOINTS", "").split()) < 2:
        print(f"soak: needs the testbed env with two gateways (missing: {missing or 'S3_ENDPOINTS'}); "
              'eval "$(scripts/testbed/ceph.sh env)"', file=sys.stderr)
        return 2
    return Soak(args).run()


if __name__ == "__main__":
    sys.exit(main())
