#!/usr/bin/env python3
"""s3mount write benchmark (issue 8, throttled writeback): s3mount vs s3fs (default, tuned) vs rclone mount
(--vfs-cache-mode writes, with its default 5 s write-back delay and with --vfs-write-back 0s) vs raw boto3 vs the
local disk, same server, same run.  Started by `BENCH_SUITE=write bench/run.sh` (which installs tools, starts the
server and unmounts everything on exit); it shares bench.py's client, mount and pid bookkeeping.  Settings
from the environment:

  AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY             the server (one endpoint)
  BENCH_BUCKET (s3mount-bench)  BENCH_SERVER (ceph|juicefs)  BENCH_SCALE (full|small)  BENCH_RUNS (3)
  S3MOUNT_BIN   BENCH_STEP_TIMEOUT (s, per measured step)
  BENCH_WRITE_CLIENTS (s3mount,s3fs-default,s3fs-tuned,rclone-writes,rclone-wb0)
  BENCH_WRITE_WORKLOADS (w9,w10,w11)
  BENCH_S3MOUNT_OPTS (extra s3mount options, every s3mount mount)  BENCH_S3FS_TUNED_OPTS  BENCH_RCLONE_OPTS
  BENCH_THROTTLE_RATE (100M: s3mount --upload-bandwidth for w11)
  BENCH_S3MOUNT_COMMIT (the commit the binary was built from, if the builder says; else HEAD + work-tree state)
  BENCH_KEEP_SRC=1 (keep the tmpfs source data at the end)   BENCH_TRIAL=1 (mark the report as a trial)

`write_bench.py worker KIND JSON` is the measuring side of one step (a subprocess, so every step is bounded
and killable); it prints one JSON line.
"""
import datetime
import hashlib
import json
import os
import re
import shlex
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.dont_write_bytecode = True   # no bench/__pycache__ in the work tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as B  # noqa: E402  (shared: Client, mount bookkeeping, pids, proc_stat, Witness, Data, machine_info)

MiB = B.MiB
WORK, LOGS, RESULTS, MNT_ROOT, PIDS_DIR = B.WORK, B.LOGS, B.RESULTS, B.MNT_ROOT, B.PIDS_DIR
SRC_DIR = Path("/dev/shm/s3mount-bench-write")          # tmpfs: the source is never the bottleneck
LOCAL_DIR = WORK / "wlocal"
S3M_CACHE = WORK / "s3mount-wcache"
RCLONE_CACHE = WORK / "rclone-wcache"
WPREFIX = "wbench/"                                      # every write key lives under it (fresh names per run)

WSCALES = {
    "full": dict(big=2 << 30, nfiles=1000, filesize=128 << 10, throttle=4 << 30),
    "small": dict(big=256 << 20, nfiles=100, filesize=128 << 10, throttle=512 << 20),
}
ALL_WCLIENTS = ["s3mount", "s3fs-default", "s3fs-tuned", "rclone-writes", "rclone-wb0"]
ALL_WWORKLOADS = ["w9", "w10", "w11"]
BASE_W9 = ["local", "local-cached", "raw-boto3"]
BASE_W10 = ["local-cached", "raw-boto3"]
RAW_W9_THREADS, RAW_W9_PART, RAW_W10_THREADS = 8, 8 * MiB, 16
HEAD_POLL_S = 0.05
SAMPLE_S = 0.1


def log(*a):
    B.log(*a)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ----------------------------------------------------------------------------------------------------
# server witness of uploaded bytes: Ceph radosgw perf counter rgw.put_b over its admin socket (sub-ms, no
# `ceph` CLI process per sample), or the JuiceFS gateway's PUT bytes metric
def asok_put_bytes(asok):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    try:
        s.connect(asok)
        s.sendall(json.dumps({"prefix": "perf dump", "logger": "rgw"}).encode() + b"\0")
        hdr = b""
        while len(hdr) < 4:
            c = s.recv(4 - len(hdr))
            if not c:
                raise OSError("admin socket closed")
            hdr += c
        n = struct.unpack(">I", hdr)[0]
        data = b""
        while len(data) < n:
            c = s.recv(n - len(data))
            if not c:
                break
            data += c
        return int(json.loads(data)["rgw"]["put_b"])
    finally:
        s.close()


def jfs_put_bytes(url):
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    tot = None
    for line in text.splitlines():
        if line.startswith("juicefs_object_request_data_bytes") and 'method="PUT"' in line:
            tot = (tot or 0) + float(line.split()[-1])
    return None if tot is None else int(tot)


def put_bytes(wit):
    """wit: {"asok": path} or {"jfs": url} or {}"""
    try:
        if wit.get("asok"):
            return asok_put_bytes(wit["asok"])
        if wit.get("jfs"):
            return jfs_put_bytes(wit["jfs"])
    except (OSError, ValueError, KeyError):
        return None
    return None


# ----------------------------------------------------------------------------------------------------
# workers
def s3_client(a, pool=20):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=a["endpoint"],
                        config=Config(max_pool_connections=pool, s3={"addressing_style": "path"},
                                      retries={"max_attempts": 3}, connect_timeout=10, read_timeout=60))


class Sampler(threading.Thread):
    """put_b of the gateway every SAMPLE_S seconds: [(perf_counter, bytes)]"""

    def __init__(self, wit):
        super().__init__(daemon=True)
        self.wit, self.samples, self.stop = wit, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            v = put_bytes(self.wit)
            if v is not None:
                self.samples.append((time.perf_counter(), v))
            self.stop.wait(SAMPLE_S)

    def at(self, t):
        """put_b at time t (linear between the samples around t)"""
        s = self.samples
        if not s:
            return None
        if t <= s[0][0]:
            return s[0][1]
        for (t1, v1), (t2, v2) in zip(s, s[1:]):
            if t1 <= t <= t2:
                return v1 + (v2 - v1) * (t - t1) / (t2 - t1) if t2 > t1 else v2
        return s[-1][1]

    def summary(self, t0, t_close, t_end):
        """uploaded bytes between t0 and t_end, bytes by close, first upload time, rate series (1 s windows)"""
        if len(self.samples) < 2:
            return {}
        base = self.at(t0)
        total = self.samples[-1][1] - base   # the last sample (taken after t_end): nothing still in flight
        first = next((t - t0 for t, v in self.samples if t >= t0 and v - base > MiB), None)
        out = {"uploaded": total, "uploaded_at_close": self.at(t_close) - base,
               "first_upload_s": first}
        win = []
        t = t0
        while t + 1.0 <= t_end:
            win.append((self.at(t + 1.0) - self.at(t)))
            t += 1.0
        out["rate_1s"] = win
        return out


class HeadPoller(threading.Thread):
    """HeadObject every HEAD_POLL_S until ContentLength == size; .t = perf_counter when seen"""

    def __init__(self, s3, bucket, key, size, deadline):
        super().__init__(daemon=True)
        self.s3, self.bucket, self.key, self.size, self.deadline = s3, bucket, key, size, deadline
        self.t, self.polls, self.stop = None, 0, threading.Event()

    def run(self):
        while not self.stop.is_set() and time.perf_counter() < self.deadline:
            self.polls += 1
            try:
                r = self.s3.head_object(Bucket=self.bucket, Key=self.key)
                if r["ContentLength"] == self.size:
                    self.t = time.perf_counter()
                    return
            except Exception:
                pass
            self.stop.wait(HEAD_POLL_S)


class ListPoller(threading.Thread):
    """ListObjectsV2 of the prefix, again and again (HEAD_POLL_S between), until all n keys show the size"""

    def __init__(self, s3, bucket, prefix, n, size, deadline):
        super().__init__(daemon=True)
        self.s3, self.bucket, self.prefix, self.n, self.size, self.deadline = s3, bucket, prefix, n, size, deadline
        self.t, self.polls, self.last, self.stop = None, 0, 0, threading.Event()

    def run(self):
        while not self.stop.is_set() and time.perf_counter() < self.deadline:
            self.polls += 1
            try:
                cnt = 0
                for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix):
                    cnt += sum(1 for o in page.get("Contents", []) if o["Size"] == self.size)
                self.last = cnt
                if cnt == self.n:
                    self.t = time.perf_counter()
                    return
            except Exception:
                pass
            self.stop.wait(HEAD_POLL_S)


class WriteProgress(threading.Thread):
    """/proc/PID/io wchar of the writer every 10 ms: .t_done = when all `size` bytes had been written (write()
    returned), so close_s - written_s is what close() itself took"""

    def __init__(self, pid, size):
        super().__init__(daemon=True)
        self.pid, self.size, self.t_done, self.stop = pid, size, None, threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                m = re.search(r"^wchar: (\d+)", Path(f"/proc/{self.pid}/io").read_text(), re.M)
            except OSError:
                return
            if m and int(m.group(1)) >= self.size:
                self.t_done = time.perf_counter()
                return
            self.stop.wait(0.01)


def dd_read(path):
    t = time.perf_counter()
    r = subprocess.run(["dd", f"if={path}", "of=/dev/null", "bs=1M"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t
    m = re.search(r"^(\d+) bytes", r.stderr, re.M)
    return {"rc": r.returncode, "seconds": dt, "bytes": int(m.group(1)) if m else None,
            "stderr": r.stderr[-300:] if r.returncode else ""}


def w_seqwrite(a):
    """One big file: dd (bs=1M from the tmpfs source), python (1 MiB writes, the source `repeat` times) or
    boto3 upload_file; t0 just before the writer starts.  close_s: the writer returned (dd exits right after
    its close()); durable_s: HeadObject shows the full size (polled every 50 ms from t0).  Optionally, right
    after close: drop caches and dd-read another file (w11: a read beside the throttled upload)."""
    deadline = time.perf_counter() + a["timeout"]
    s3 = s3_client(a) if a.get("key") else None
    sampler = Sampler(a.get("wit", {}))
    sampler.start()
    poller = HeadPoller(s3, a["bucket"], a["key"], a["size"], deadline) if a.get("key") and a["mode"] != "boto3" else None
    time.sleep(0.3)  # a few witness samples before t0
    if a["mode"] == "boto3":
        from boto3.s3.transfer import TransferConfig
        tc = TransferConfig(multipart_threshold=a["part"], multipart_chunksize=a["part"],
                            max_concurrency=a["threads"], use_threads=True)
        poller = HeadPoller(s3, a["bucket"], a["key"], a["size"], deadline)
    out = {}
    t0 = time.perf_counter()
    if poller:
        poller.start()
    if a["mode"] == "dd":
        cmd = ["dd", f"if={a['src']}", f"of={a['dst']}", "bs=1M", f"count={a['size'] // MiB}", "iflag=fullblock",
               "status=none"] + (["conv=fsync"] if a.get("fsync") else [])
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        prog = WriteProgress(p.pid, a["size"])
        prog.start()
        try:
            _, err = p.communicate(timeout=a["timeout"])
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        prog.stop.set()
        if prog.t_done is not None:
            out["written_s"] = prog.t_done - t0   # dd's last write() returned (its close() follows)
        if p.returncode != 0:
            sampler.stop.set()
            if poller:
                poller.stop.set()
            return {"error": f"dd rc={p.returncode}: {err[-300:]}"}
    elif a["mode"] == "python":
        fd_in = os.open(a["src"], os.O_RDONLY)
        fd = os.open(a["dst"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            for _ in range(a["repeat"]):
                os.lseek(fd_in, 0, 0)
                while True:
                    b = os.read(fd_in, MiB)
                    if not b:
                        break
                    mv = memoryview(b)
                    while mv:
                        mv = mv[os.write(fd, mv):]
        except OSError as e:
            sampler.stop.set()
            if poller:
                poller.stop.set()
            return {"error": f"write: {e}"}
        finally:
            os.close(fd_in)
        out["written_s"] = time.perf_counter() - t0   # the last write() returned; close() follows
        try:
            os.close(fd)
        except OSError as e:
            sampler.stop.set()
            if poller:
                poller.stop.set()
            return {"error": f"close: {e}"}
    elif a["mode"] == "boto3":
        s3.upload_file(a["src"], a["bucket"], a["key"], Config=tc)
    t_close = time.perf_counter()
    out["close_s"] = t_close - t0
    if a.get("read_after_close"):
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        t_r = time.perf_counter()
        rd = dd_read(a["read_after_close"])
        rd["start_s"] = t_r - t0
        rd["end_s"] = time.perf_counter() - t0
        out["read"] = rd
    if poller:
        poller.join(max(0.0, deadline - time.perf_counter()))
        poller.stop.set()
        out["polls"] = poller.polls
        if poller.t is None:
            sampler.stop.set()
            out["error"] = f"not durable after {a['timeout']} s (HeadObject never showed {a['size']} bytes)"
            return out
        t_end = poller.t
    else:
        t_end = t_close
    out["durable_s"] = t_end - t0
    time.sleep(2 * SAMPLE_S)
    sampler.stop.set()
    sampler.join(5)
    out.update(sampler.summary(t0, t_close, t_end))
    return out


def w_files(a):
    """n new files of filesize bytes, written one after the other (open, write, close) through a path (fs),
    or PUT by `threads` boto3 threads (boto3).  close_s: the last close / PUT returned; durable_s: a
    ListObjectsV2 of the run's prefix shows all n keys with the right size (polled from t0)."""
    deadline = time.perf_counter() + a["timeout"]
    n, fs_ = a["n"], a["filesize"]
    with open(a["src"], "rb") as f:
        data = f.read(n * fs_)
    names = [f"f{i:05d}.bin" for i in range(n)]
    s3 = s3_client(a, pool=max(20, a.get("threads", 1) + 4)) if a.get("keyprefix") is not None else None
    sampler = Sampler(a.get("wit", {}))
    sampler.start()
    poller = ListPoller(s3, a["bucket"], a["keyprefix"], n, fs_, deadline) if s3 else None
    time.sleep(0.3)
    t0 = time.perf_counter()
    if poller:
        poller.start()
    try:
        if a["mode"] == "fs":
            for i, nm in enumerate(names):
                with open(os.path.join(a["dir"], a.get("nameprefix", "") + nm), "wb") as f:
                    f.write(data[i * fs_:(i + 1) * fs_])
        else:
            def put(i):
                s3.put_object(Bucket=a["bucket"], Key=a["keyprefix"] + names[i], Body=data[i * fs_:(i + 1) * fs_])
            with ThreadPoolExecutor(a["threads"]) as ex:
                list(ex.map(put, range(n)))
    except Exception as e:
        sampler.stop.set()
        if poller:
            poller.stop.set()
        return {"error": f"{type(e).__name__}: {e}"[:400]}
    t_close = time.perf_counter()
    out = {"close_s": t_close - t0}
    if poller:
        poller.join(max(0.0, deadline - time.perf_counter()))
        poller.stop.set()
        out["polls"] = poller.polls
        if poller.t is None:
            sampler.stop.set()
            out["error"] = f"not durable after {a['timeout']} s ({poller.last} of {n} listed with the size)"
            return out
        t_end = poller.t
    else:
        t_end = t_close
    out["durable_s"] = t_end - t0
    time.sleep(2 * SAMPLE_S)
    sampler.stop.set()
    sampler.join(5)
    out.update(sampler.summary(t0, t_close, t_end))
    return out


def w_ddread(a):
    return dd_read(a["path"])


WORKERS = {"seqwrite": w_seqwrite, "files": w_files, "ddread": w_ddread}


def worker_main(kind, arg):
    a = json.loads(arg)
    try:
        out = WORKERS[kind](a)
    except Exception as e:
        out = {"error": f"{type(e).__name__}: {e}"[:500]}
    sys.stdout.write(json.dumps(out) + "\n")


def run_worker(kind, args, timeout):
    p = subprocess.Popen([sys.executable, __file__, "worker", kind, json.dumps(args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except BaseException as e:   # the step's timeout, or we are being stopped: the worker goes too
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        if isinstance(e, subprocess.TimeoutExpired):
            return {"timeout": True}
        raise
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": f"worker {kind} rc={p.returncode}: {err[-400:]}"}


# ----------------------------------------------------------------------------------------------------
# clients: bench.py's Client (mount, pids, stat, bounded unmount) with the write configurations
def s3mount_help(binpath):
    try:
        return subprocess.run([binpath, "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


class WClient(B.Client):
    def __init__(self, name, cfg, extra=None):
        super().__init__(name, cfg)
        self.extra = extra or []      # per-mount options (w11: --upload-bandwidth)

    def command(self):
        c, ep, b = self.cfg, self.cfg["endpoint"], self.cfg["bucket"]
        if self.name == "s3mount":
            h = c["s3mount_help"]
            o = [c["s3mount_bin"], b, str(self.mnt), "--endpoint", ep, "--region", "us-east-1",
                 "--log-file", str(LOGS / "s3mount-write.log")]
            if "--write-mode" in h:
                o += ["--write-mode", "writeback"]
            if "--cache-dir" in h:
                o += ["--cache-dir", str(S3M_CACHE)]
            return o + self.extra + shlex.split(os.environ.get("BENCH_S3MOUNT_OPTS", ""))
        if self.name.startswith("s3fs"):
            o = f"url={ep},use_path_request_style,passwd_file={c['s3fs_passwd']},endpoint=us-east-1"
            if self.name == "s3fs-tuned":
                o += "," + os.environ.get("BENCH_S3FS_TUNED_OPTS", c["s3fs_tuned"])
            return ["s3fs", b, str(self.mnt), "-o", o]
        if self.name.startswith("rclone"):
            o = ["rclone", "mount", f"bench:{b}", str(self.mnt), "--config", c["rclone_conf"],
                 "--vfs-cache-mode", "writes", "--cache-dir", str(RCLONE_CACHE), "--daemon",
                 "--log-file", str(LOGS / f"{self.name}.log")]
            if self.name == "rclone-wb0":
                o += ["--vfs-write-back", "0s"]
            return o + shlex.split(os.environ.get("BENCH_RCLONE_OPTS", ""))
        raise ValueError(self.name)

    def _clear(self):
        for d in (S3M_CACHE, RCLONE_CACHE):
            if d.exists():
                B.sh(["rm", "-rf", str(d)], timeout=300)
        S3M_CACHE.mkdir(parents=True, exist_ok=True)

    def mount(self):
        self.unmount()
        self._clear()
        super().mount()

    def unmount(self):
        super().unmount()
        self._clear()


# ----------------------------------------------------------------------------------------------------
def sha256_file(path, limit=None, repeat=1):
    h = hashlib.sha256()
    for _ in range(repeat):
        left = limit
        with open(path, "rb") as f:
            while left is None or left > 0:
                b = f.read(8 * MiB if left is None else min(8 * MiB, left))
                if not b:
                    break
                h.update(b)
                if left is not None:
                    left -= len(b)
    return h.hexdigest()


class WBench:
    def __init__(self):
        e = os.environ
        self.server = e.get("BENCH_SERVER", "ceph")
        self.scale = e.get("BENCH_SCALE", "full")
        self.s = WSCALES[self.scale]
        self.runs = int(e.get("BENCH_RUNS", "3"))
        self.clients = [c for c in e.get("BENCH_WRITE_CLIENTS", ",".join(ALL_WCLIENTS)).split(",") if c]
        self.workloads = [w for w in e.get("BENCH_WRITE_WORKLOADS", ",".join(ALL_WWORKLOADS)).split(",") if w]
        self.step_timeout = int(e.get("BENCH_STEP_TIMEOUT", "900" if self.scale == "full" else "300"))
        self.rate = e.get("BENCH_THROTTLE_RATE", "100M")
        self.cfg = dict(endpoint=e["AWS_ENDPOINT_URL"].rstrip("/"), bucket=e.get("BENCH_BUCKET", "s3mount-bench"),
                        ak=e["AWS_ACCESS_KEY_ID"], sk=e["AWS_SECRET_ACCESS_KEY"], s3mount_bin=e["S3MOUNT_BIN"],
                        s3fs_passwd=str(WORK / "s3fs.passwd"), rclone_conf=str(WORK / "rclone.conf"),
                        s3fs_tuned="parallel_count=16,multipart_size=16,max_background=64,multireq_max=64,"
                                   "max_stat_cache_size=100000,enable_noobj_cache")
        self.cfg["s3mount_help"] = s3mount_help(self.cfg["s3mount_bin"])
        self.results = {}      # (column, workload) -> [run dict]
        self.commands = {}
        self.notes = []
        self.started = datetime.datetime.now()
        self.stamp = self.started.strftime("%H%M%S")
        self.read_data = B.Data(self.scale, self.server)   # w11 reads the read benchmark's big object

    # -- setup
    def setup(self):
        for d in (WORK, MNT_ROOT, PIDS_DIR, LOGS, RESULTS, LOCAL_DIR, SRC_DIR):
            d.mkdir(parents=True, exist_ok=True)
        pw = Path(self.cfg["s3fs_passwd"])
        pw.write_text(f"{self.cfg['ak']}:{self.cfg['sk']}\n")
        pw.chmod(0o600)
        Path(self.cfg["rclone_conf"]).write_text(
            "[bench]\ntype = s3\nprovider = Other\nenv_auth = false\n"
            f"access_key_id = {self.cfg['ak']}\nsecret_access_key = {self.cfg['sk']}\n"
            f"endpoint = {self.cfg['endpoint']}\nregion = us-east-1\nforce_path_style = true\n")
        self.s3 = s3_client(self.cfg, pool=40)
        try:
            self.s3.head_bucket(Bucket=self.cfg["bucket"])
        except Exception:
            self.s3.create_bucket(Bucket=self.cfg["bucket"])
        # a marker so that wbench/ is a directory for every client before anything is written there
        self.s3.put_object(Bucket=self.cfg["bucket"], Key=WPREFIX + ".keep", Body=b"")
        self.cleanup_keys(WPREFIX + "w")   # leftovers of an interrupted run
        # witness
        w = B.Witness(self.server, self.cfg["endpoint"])
        self.wit = {}
        if self.server == "ceph":
            a = w._find_asok()
            if a:
                self.wit = {"asok": a}
                self.wit_desc = f"radosgw admin socket {a}: perf dump rgw → rgw.put_b (bytes received by PUTs and parts)"
        elif os.environ.get("BENCH_JFS_METRICS"):
            self.wit = {"jfs": os.environ["BENCH_JFS_METRICS"]}
            self.wit_desc = "JuiceFS gateway metrics juicefs_object_request_data_bytes{method=PUT}"
        if not self.wit:
            self.wit_desc = "none available"
        # source data on tmpfs
        big = self.s["big"]
        self.src = SRC_DIR / f"src-{big // MiB}M.bin"
        shaf = SRC_DIR / f"src-{big // MiB}M.json"
        meta = json.loads(shaf.read_text()) if shaf.exists() else {}
        if not (self.src.exists() and self.src.stat().st_size == big and meta.get("size") == big
                and meta.get("mtime") == self.src.stat().st_mtime):
            log(f"source: {big // MiB} MiB from /dev/urandom into {self.src} (tmpfs)")
            B.sh(["sh", "-c", f"head -c {big} /dev/urandom > {shlex.quote(str(self.src))}"], timeout=600, check=True)
            n, fsz = self.s["nfiles"], self.s["filesize"]
            meta = {"size": big, "mtime": self.src.stat().st_mtime, "sha": sha256_file(self.src),
                    "sha2": sha256_file(self.src, repeat=2)}
            with open(self.src, "rb") as f:
                meta["files"] = [hashlib.sha256(f.read(fsz)).hexdigest() for _ in range(n)]
            shaf.write_text(json.dumps(meta))
        self.src_meta = meta
        # w11 reads <scale>/big.bin (the read benchmark's object; uploaded here if missing)
        if "w11" in self.workloads and "s3mount" in self.clients:
            self.ensure_read_object()

    def ensure_read_object(self):
        d = self.read_data
        if d.manifest_path.exists():
            d.manifest = json.loads(d.manifest_path.read_text())
        key, size = d.big, d.sizes[d.big]
        try:
            ok = self.s3.head_object(Bucket=self.cfg["bucket"], Key=key)["ContentLength"] == size and key in d.manifest
        except Exception:
            ok = False
        if ok:
            return
        log(f"uploading {key} ({size // MiB} MiB, the read benchmark's content) for w11")
        up = self.s3.create_multipart_upload(Bucket=self.cfg["bucket"], Key=key)
        parts, h, first = [], hashlib.sha256(), None
        for n, chunk in enumerate(B.gen_chunks(key, size), 1):
            first = chunk[0] if first is None else first
            h.update(chunk)
            r = self.s3.upload_part(Bucket=self.cfg["bucket"], Key=key, UploadId=up["UploadId"], PartNumber=n, Body=chunk)
            parts.append({"PartNumber": n, "ETag": r["ETag"]})
        self.s3.complete_multipart_upload(Bucket=self.cfg["bucket"], Key=key, UploadId=up["UploadId"],
                                          MultipartUpload={"Parts": parts})
        man = json.loads(d.manifest_path.read_text()) if d.manifest_path.exists() else {}
        man[key] = {"size": size, "sha256": h.hexdigest(), "first": first}
        d.manifest_path.write_text(json.dumps(man))

    # -- S3 helpers (outside every timed part)
    def gc(self):
        """Ceph: purge RGW's garbage (deleted objects' data) now instead of after rgw_gc_obj_min_wait: every step
        deletes GiBs, and RGW's own GC did not keep up — the testbed's 24 GiB OSD filled (failsafe full, every
        write blocked) in a run that did not do this."""
        if self.server != "ceph":
            return
        try:
            B.sh(["radosgw-admin", "gc", "process", "--include-all"], timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            log(f"radosgw-admin gc process: {e}")

    def cleanup_keys(self, prefix):
        b = self.cfg["bucket"]
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=b, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        for i in range(0, len(keys), 1000):
            self.s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})
        aborted = 0
        r = self.s3.list_multipart_uploads(Bucket=b, Prefix=prefix)
        for u in r.get("Uploads", []):
            self.s3.abort_multipart_upload(Bucket=b, Key=u["Key"], UploadId=u["UploadId"])
            aborted += 1
        self.gc()
        return len(keys), aborted

    def get_sha(self, key):
        body = self.s3.get_object(Bucket=self.cfg["bucket"], Key=key)["Body"]
        h, n = hashlib.sha256(), 0
        for chunk in iter(lambda: body.read(8 * MiB), b""):
            h.update(chunk)
            n += len(chunk)
        return n, h.hexdigest()

    def record(self, col, wl, run):
        self.results.setdefault((col, wl), []).append(run)
        keys = ("close_s", "durable_s", "files_s", "rate", "read_mbs", "cpu_per_gb")
        log(f"  {col:14s} {wl} run {len(self.results[(col, wl)])}: {run.get('status')} "
            + " ".join(f"{k}={run[k]:.3f}" for k in keys if isinstance(run.get(k), (int, float)))
            + (f" rss {run['rss_kib'] // 1024} MiB" if "rss_kib" in run else "")
            + (f"  ({run['note']})" if run.get("note") else ""))

    def from_worker(self, r):
        if r.get("timeout"):
            return {"status": "TIMEOUT"}
        if r.get("error") and "durable_s" not in r:
            return {"status": "ERROR", "note": r["error"][:300], **{k: v for k, v in r.items() if k != "error"}}
        return {"status": "ok", **r}

    # -- w9: one 2 GiB file
    def w9(self, col, run_idx, cl=None):
        size, to = self.s["big"], self.step_timeout
        key = f"{WPREFIX}w9-{col}-r{run_idx + 1}-{self.stamp}.bin"
        a = {"src": str(self.src), "size": size, "timeout": to, "endpoint": self.cfg["endpoint"],
             "bucket": self.cfg["bucket"], "wit": self.wit}
        if col in ("local", "local-cached"):
            dst = LOCAL_DIR / f"w9-{col}.bin"
            dst.unlink(missing_ok=True)
            a.update(mode="dd", dst=str(dst), fsync=(col == "local"), wit={})
        elif col == "raw-boto3":
            a.update(mode="boto3", key=key, part=RAW_W9_PART, threads=RAW_W9_THREADS)
        else:
            a.update(mode="dd", dst=cl.path(key), key=key)
        if a["mode"] == "dd":
            of = a["dst"] if cl is None else f"MNT/{WPREFIX}w9-<column>-r<run>-<time>.bin"
            self.commands.setdefault(f"w9 {col if cl is None else 'FUSE clients'}", shlex.join(
                ["dd", "if=SRC", f"of={of}", "bs=1M", f"count={size // MiB}", "iflag=fullblock", "status=none"]
                + (["conv=fsync"] if a.get("fsync") else [])))
        else:
            self.commands.setdefault("w9 raw-boto3", f"boto3 upload_file(SRC, bucket, key, Config=TransferConfig("
                                     f"multipart_threshold={RAW_W9_PART}, multipart_chunksize={RAW_W9_PART}, "
                                     f"max_concurrency={RAW_W9_THREADS}))")
        res = self.step(cl, lambda: run_worker("seqwrite", a, to + 60))
        if col.startswith("local"):
            Path(a["dst"]).unlink(missing_ok=True)
        else:
            self.check_object(res, key, size, self.src_meta["sha"])
        self.finish(res, size)
        self.record(col, "w9", res)

    # -- w10: 1000 × 128 KiB new files
    def w10(self, col, run_idx, cl=None):
        n, fsz, to = self.s["nfiles"], self.s["filesize"], self.step_timeout
        kp = f"{WPREFIX}w10-{col}-r{run_idx + 1}-{self.stamp}-"
        a = {"src": str(self.src), "n": n, "filesize": fsz, "timeout": to, "endpoint": self.cfg["endpoint"],
             "bucket": self.cfg["bucket"], "wit": self.wit}
        if col == "local-cached":
            ldir = LOCAL_DIR / "w10"
            B.sh(["rm", "-rf", str(ldir)], timeout=120)
            ldir.mkdir(parents=True)
            a.update(mode="fs", dir=str(ldir), keyprefix=None, wit={})
        elif col == "raw-boto3":
            a.update(mode="boto3", keyprefix=kp, threads=RAW_W10_THREADS)
        else:
            a.update(mode="fs", dir=str(cl.mnt / WPREFIX), nameprefix=kp[len(WPREFIX):], keyprefix=kp)
        res = self.step(cl, lambda: run_worker("files", a, to + 60))
        if col == "local-cached":
            B.sh(["rm", "-rf", str(LOCAL_DIR / "w10")], timeout=120)
        else:
            self.check_files(res, kp)
        self.finish(res, n * fsz)
        if res.get("durable_s"):
            res["files_s"] = n / res["durable_s"]
            res["files_s_close"] = n / res["close_s"]
        self.record(col, "w10", res)

    # -- w11: throttled upload of a 4 GiB file, and a read beside it
    def w11(self, run_idx):
        size, to, d = self.s["throttle"], self.step_timeout, self.read_data
        read_path_key = d.big
        extra = ["--upload-bandwidth", self.rate]
        cl = WClient("s3mount", self.cfg, extra)
        self.commands.setdefault("mount s3mount (w11)", shlex.join(cl.command()))
        # (1) the read alone, fresh mount with the same options
        r1 = self.step(cl, lambda: run_worker("ddread", {"path": cl.path(read_path_key)}, to), unmount=True)
        ok1 = r1.get("status") == "ok" and r1.get("rc") == 0 and r1.get("bytes") == d.sizes[d.big]
        self.record("s3mount", "w11-read-alone", {"status": "ok" if ok1 else "ERROR",
                                                  "read_mbs": d.sizes[d.big] / r1["seconds"] / 1e6 if ok1 else None,
                                                  "note": "" if ok1 else str(r1)[:300]})
        # (2) 4 GiB write, then (after close, caches dropped) the same read while the upload goes on
        key = f"{WPREFIX}w11-s3mount-r{run_idx + 1}-{self.stamp}.bin"
        a = {"mode": "python", "src": str(self.src), "repeat": size // self.s["big"], "size": size,
             "dst": cl.path(key), "key": key, "timeout": to, "endpoint": self.cfg["endpoint"],
             "bucket": self.cfg["bucket"], "wit": self.wit, "read_after_close": cl.path(read_path_key)}
        self.commands.setdefault("w11 write", f"python: open(MNT/{WPREFIX}w11-….bin), os.write 1 MiB blocks of SRC "
                                 f"{a['repeat']} times ({size // MiB} MiB), close; then drop_caches and "
                                 f"dd if=MNT/{read_path_key} of=/dev/null bs=1M")
        res = self.step(cl, lambda: run_worker("seqwrite", a, to + 60))
        self.check_object(res, key, size, self.src_meta["sha2"])
        self.finish(res, size)
        rd = res.get("read") or {}
        if rd.get("rc") == 0 and rd.get("bytes") == d.sizes[d.big]:
            res["read_mbs"] = rd["bytes"] / rd["seconds"] / 1e6
            if res.get("durable_s") and rd["end_s"] > res["durable_s"]:
                res["note"] = (res.get("note", "") + f" read ended {rd['end_s'] - res['durable_s']:.1f} s after the "
                               "upload: not entirely concurrent").strip()
        elif rd:
            res["note"] = (res.get("note", "") + f" read failed: {rd}").strip()[:300]
        if res.get("durable_s") and res.get("close_s") is not None:
            tail = res["durable_s"] - res["close_s"]
            if tail > 0 and res.get("uploaded") is not None:
                res["rate_close_durable"] = (res["uploaded"] - res["uploaded_at_close"]) / tail
            res["rate"] = size / res["durable_s"]
            if res.get("first_upload_s") is not None and res["durable_s"] > res["first_upload_s"]:
                res["rate_upload"] = (res.get("uploaded") or size) / (res["durable_s"] - res["first_upload_s"])
        self.record("s3mount", "w11", res)

    # -- common step: mount (fresh), drop caches, daemon CPU/RSS around the worker
    def step(self, cl, fn, unmount=True):
        if cl is not None:
            try:
                cl.mount()
            except Exception as e:
                cl.unmount()
                return {"status": "ERROR", "note": f"mount: {e}"[:300]}
        try:
            B.drop_caches()
            c0 = cl.stat()[0] if cl else None
            r = fn()
            res = self.from_worker(r)
            if cl is not None:
                c1, hwm = cl.stat()
                res.update(cpu=c1 - c0, rss_kib=hwm)
                if not cl.pids:
                    res["note"] = (res.get("note", "") + " daemon pid not found").strip()
            return res
        finally:
            if cl is not None and unmount:
                cl.unmount()

    def finish(self, res, nbytes):
        w = res.get("rate_1s")
        if w:
            res["peak_1s"] = max(w)
            if len(w) >= 5:
                res["peak_5s"] = max(sum(w[i:i + 5]) / 5 for i in range(len(w) - 4))
        if "cpu" in res:
            res["cpu_per_gb"] = res["cpu"] / (nbytes / 1e9)
        if res.get("uploaded") is not None:
            res["amplification"] = res["uploaded"] / nbytes

    def check_object(self, res, key, size, sha):
        """sha256 of the object as S3 has it (a GET, after the clock stopped), then delete it"""
        try:
            if res.get("status") == "ok":
                n, h = self.get_sha(key)
                if n != size or h != sha:
                    res["status"] = "FAILED"
                    res["note"] = (res.get("note", "") + f" object in S3: {n} bytes of {size}"
                                   + (", sha256 mismatch" if h != sha else "")).strip()
        except Exception as e:
            res["status"] = "FAILED"
            res["note"] = (res.get("note", "") + f" GET for the check failed: {e}").strip()[:300]
        nk, na = self.cleanup_keys(key)
        if na:
            res["note"] = (res.get("note", "") + f" {na} multipart upload(s) left open (aborted)").strip()

    def check_files(self, res, kp):
        try:
            if res.get("status") == "ok":
                n, fsz = self.s["nfiles"], self.s["filesize"]
                want = self.src_meta["files"]

                def one(i):
                    return self.get_sha(f"{kp}f{i:05d}.bin") == (fsz, want[i])
                with ThreadPoolExecutor(16) as ex:
                    bad = n - sum(ex.map(one, range(n)))
                if bad:
                    res["status"] = "FAILED"
                    res["note"] = (res.get("note", "") + f" {bad} of {n} objects: size/sha256 mismatch").strip()
        except Exception as e:
            res["status"] = "FAILED"
            res["note"] = (res.get("note", "") + f" GET for the check failed: {e}").strip()[:300]
        nk, na = self.cleanup_keys(kp)
        if na:
            res["note"] = (res.get("note", "") + f" {na} multipart upload(s) left open (aborted)").strip()

    # -- main loop
    def run(self):
        self.setup()
        cls = {c: WClient(c, self.cfg) for c in self.clients}
        self.clients_obj = cls
        for c in cls.values():
            self.commands[f"mount {c.name}"] = shlex.join(c.command())
        for run_idx in range(self.runs):
            log(f"=== run {run_idx + 1}/{self.runs}: baselines")
            if "w9" in self.workloads:
                for col in BASE_W9:
                    self.w9(col, run_idx)
            if "w10" in self.workloads:
                for col in BASE_W10:
                    self.w10(col, run_idx)
            for c in self.clients:
                log(f"=== run {run_idx + 1}/{self.runs}: {c}")
                if "w9" in self.workloads:
                    self.w9(c, run_idx, cls[c])
                if "w10" in self.workloads:
                    self.w10(c, run_idx, cls[c])
            if "w11" in self.workloads and "s3mount" in self.clients:
                log(f"=== run {run_idx + 1}/{self.runs}: s3mount throttle (w11)")
                self.w11(run_idx)
        return self.report()

    def cleanup(self):
        for cl in getattr(self, "clients_obj", {}).values():
            try:
                cl.unmount()
            except Exception as e:
                log(f"cleanup {cl.name}: {e}")
        try:
            WClient("s3mount", self.cfg).unmount()
        except Exception:
            pass
        B.sh(["rm", "-rf", str(LOCAL_DIR)], timeout=120)
        if os.environ.get("BENCH_KEEP_SRC") != "1":
            B.sh(["rm", "-rf", str(SRC_DIR)], timeout=120)
        try:
            self.cleanup_keys(WPREFIX + "w")
        except Exception as e:
            log(f"cleanup keys: {e}")

    # -- report
    def med(self, col, wl, k):
        runs = [r for r in self.results.get((col, wl), []) if r.get("status") == "ok"]
        return median([r.get(k) for r in runs])

    def status(self, col, wl):
        runs = self.results.get((col, wl), [])
        if not runs:
            return None
        bad = sorted({r["status"] for r in runs if r["status"] != "ok"})
        ok = sum(1 for r in runs if r["status"] == "ok")
        if not bad:
            return ""
        return f"{'/'.join(bad)}" + (f" ({ok}/{len(runs)} ok)" if ok else "")

    def binary_info(self):
        if getattr(self, "meta", {}).get("binary"):
            return self.meta["binary"]
        binp = self.cfg["s3mount_bin"]
        g = lambda *a: B.first_line(["git", "-C", str(B.REPO)] + list(a))  # noqa: E731
        head = g("rev-parse", "HEAD")
        subj = g("log", "-1", "--format=%s")[:100]
        dirty = subprocess.run(["git", "-C", str(B.REPO), "status", "--porcelain", "--", "Sources", "Package.swift"],
                               stdout=subprocess.PIPE, text=True, timeout=30).stdout.split("\n")
        dirty = [x.strip() for x in dirty if x.strip()]
        try:
            st = os.stat(binp)
            mtime = datetime.datetime.fromtimestamp(st.st_mtime).strftime("%Y-%m-%d %H:%M:%S")
            with open(binp, "rb") as f:
                bsha = hashlib.sha256(f.read()).hexdigest()[:16]
        except OSError:
            mtime, bsha = "?", "?"
        return dict(head=head, subj=subj, dirty=dirty, mtime=mtime, bsha=bsha,
                    version=B.first_line([binp, "--version"]), told=os.environ.get("BENCH_S3MOUNT_COMMIT", ""))

    def report(self):
        L = []
        s, now = self.s, self.started
        trial = os.environ.get("BENCH_TRIAL") == "1"
        L.append(f"# s3mount write benchmark — {self.server}, scale {self.scale}, {now:%Y-%m-%d %H:%M}"
                 + (" — TRIAL (harness check, not a result)" if trial else ""))
        L.append("")
        bi = self.binary_info()
        self.meta = getattr(self, "meta", {})
        self.meta["binary"] = bi
        L.append(f"**s3mount binary measured**: `{self.cfg['s3mount_bin']}` (version {bi['version']}, sha256 "
                 f"{bi['bsha']}…, built {bi['mtime']}); "
                 + (f"built from commit **{bi['told']}** (as its builder says); " if bi["told"] else "")
                 + f"repository HEAD when the report was written **{bi['head'][:12]}** ({bi['subj']})"
                 + (f", with uncommitted changes in the work tree ({len(bi['dirty'])} paths under Sources/: the binary "
                    "may include some of them — " + ", ".join(f"`{x}`" for x in bi["dirty"][:8])
                    + (" …" if len(bi["dirty"]) > 8 else "") + ")" if bi["dirty"] else ", clean work tree") + ".")
        L.append("")
        if trial:
            L += ["> **Trial run**: reduced size or a subset, to prove the harness. Do not quote these numbers.", ""]
        L.append(f"Data: random bytes from /dev/urandom on tmpfs (`{SRC_DIR}`), so the source is never the bottleneck; "
                 f"w9 one {s['big'] // MiB} MiB file, w10 {s['nfiles']} × {s['filesize'] // 1024} KiB new files, w11 one "
                 f"{s['throttle'] // MiB} MiB file under `--upload-bandwidth {self.rate}` plus a read of "
                 f"`{self.read_data.big}` ({self.read_data.sizes[self.read_data.big] // MiB} MiB). Bucket "
                 f"`{self.cfg['bucket']}`, fresh keys under `{WPREFIX}` in every run, deleted after it. Every cell is the "
                 f"**median of {self.runs} runs**; each FUSE step is a fresh mount (empty cache dir) after "
                 "`echo 3 > /proc/sys/vm/drop_caches`. MB = 10^6 bytes, GB = 10^9 bytes.")
        L.append("")
        # ---- targets
        L.append("## Issue 8 targets")
        L.append("")
        L.append("| target | s3mount | reference | ratio | goal | met |")
        L.append("|---|---|---|---|---|---|")
        tg = []

        def trow(name, sm, ref, refname, goal_txt, ok_fn, unit, higher=False):
            if sm is None or ref is None:
                L.append(f"| {name} | {fmt(sm, unit)} | {refname} {fmt(ref, unit)} | — | {goal_txt} | not measured |")
                tg.append((name, None))
                return
            ratio = sm / ref
            ok = ok_fn(ratio)
            tg.append((name, ok))
            L.append(f"| {name} | {fmt(sm, unit)} | {refname} {fmt(ref, unit)} | {ratio:.2f} | {goal_txt} | "
                     f"{'yes' if ok else '**no**'} |")

        if "w9" in self.workloads:
            trow("w9 close() of the file", self.med("s3mount", "w9", "close_s"), self.med("local", "w9", "close_s"),
                 "local disk write+fsync", "≤ 1.20", lambda r: r <= 1.2, "s")
            trow("w9 first byte → durable", self.med("s3mount", "w9", "durable_s"),
                 self.med("raw-boto3", "w9", "durable_s"), "raw boto3 multipart", "≤ 1.25", lambda r: r <= 1.25, "s")
            for rc in ("rclone-writes", "rclone-wb0"):
                if rc in self.clients:
                    trow(f"w9 first byte → durable, vs {rc}", self.med("s3mount", "w9", "durable_s"),
                         self.med(rc, "w9", "durable_s"), rc, "< 1.00", lambda r: r < 1.0, "s")
        if "w10" in self.workloads:
            trow("w10 small files, files/s", self.med("s3mount", "w10", "files_s"),
                 self.med("raw-boto3", "w10", "files_s"), f"raw boto3 PUTs ({RAW_W10_THREADS} threads)", "≥ 0.50",
                 lambda r: r >= 0.5, "files/s")
            peers = [(c, self.med(c, "w10", "files_s")) for c in self.clients if c != "s3mount"]
            peers = [p for p in peers if p[1]]
            bp = max(peers, key=lambda p: p[1]) if peers else (None, None)
            trow("w10 small files vs the better peer", self.med("s3mount", "w10", "files_s"), bp[1],
                 f"best peer ({bp[0]})", "≥ 2.00", lambda r: r >= 2.0, "files/s")
        if "w11" in self.workloads and "s3mount" in self.clients:
            unit_b, lim = self.rate_unit()
            rt = self.med("s3mount", "w11", "rate_close_durable")
            L.append(f"| w11 upload rate close → durable (witness), `--upload-bandwidth {self.rate}` | "
                     f"{fmt(rt / 1e6 if rt else None, 'MB/s')} MB/s | limit {lim / 1e6:.1f} MB/s ({unit_b}) | "
                     f"{(rt / lim) if rt else float('nan'):.2f} | ≤ 1 (and close to it) | "
                     f"{'—' if rt is None else ('yes' if rt <= lim * 1.05 else '**no**')} |")
            ra, rc_ = self.med("s3mount", "w11-read-alone", "read_mbs"), self.med("s3mount", "w11", "read_mbs")
            L.append(f"| w11 read beside the throttled upload | {fmt(rc_, 'MB/s')} MB/s | the same read alone "
                     f"{fmt(ra, 'MB/s')} MB/s | {(rc_ / ra) if (ra and rc_) else float('nan'):.2f} | no number set "
                     "(≈ 1: the throttle leaves reads alone) | — |")
        L.append("")
        # ---- w9 table
        if "w9" in self.workloads:
            cols = BASE_W9 + self.clients
            L.append(f"## w9: one {s['big'] // MiB} MiB file, sequential (dd bs=1M from tmpfs)")
            L.append("")
            L.append("| column | close() s ↓ | of which: writes done at s | first byte → durable s ↓ | durable MB/s ↑ "
                     "| close / local | durable / raw | upload began at s | uploaded by close | uploaded / size "
                     "| daemon CPU s/GB | peak RSS MiB | status |")
            L.append("|" + "---|" * 13)
            loc, raw = self.med("local", "w9", "close_s"), self.med("raw-boto3", "w9", "durable_s")
            for c in cols:
                cl_, du = self.med(c, "w9", "close_s"), self.med(c, "w9", "durable_s")
                fb = self.med(c, "w9", "first_upload_s")
                uc = self.med(c, "w9", "uploaded_at_close")
                am = self.med(c, "w9", "amplification")
                cpu, rss = self.med(c, "w9", "cpu_per_gb"), self.med(c, "w9", "rss_kib")
                local_col = c.startswith("local")
                L.append("| " + " | ".join([
                    c, fmt(cl_, "s"), "—" if c in ("local-cached", "raw-boto3") else fmt(self.med(c, "w9", "written_s"), "s"),
                    fmt(du, "s"),
                    fmt(s["big"] / du / 1e6 if du else None, "MB/s"),
                    f"{cl_ / loc:.2f}" if cl_ and loc and c != "raw-boto3" else "—",
                    f"{du / raw:.2f}" if du and raw and not local_col else "—",
                    "—" if local_col else fmt(fb, "s"),
                    "—" if local_col or uc is None else f"{uc / s['big'] * 100:.0f} %",
                    "—" if local_col else fmt(am, "x"),
                    fmt(cpu, "s") if cpu is not None else "—", f"{rss / 1024:.0f}" if rss else "—",
                    self.status(c, "w9") or "ok"]) + " |")
            L.append("")
            L.append("close() = the writer started → dd exited (raw-boto3: → upload_file returned; dd closes the file just before exiting; for `local` dd "
                     "ran with conv=fsync, so it is write + fsync + close: the issue's reference; `local-cached` is "
                     "write + close into the page cache only). `writes done at` = when dd's last write() had returned (its "
                     "/proc/PID/io wchar reached the size, sampled every 10 ms; — where close follows too quickly to see it, "
                     "e.g. rclone; local: the rest is the fsync): the rest of close() s is the close (flush/release) "
                     "itself. Each cell is the median of its own runs, so cells of one row may come from different runs. First byte → durable = from the same start until a "
                     f"HeadObject (polled every {HEAD_POLL_S * 1000:.0f} ms) shows the full size (local: = close). raw-boto3 "
                     f"= `upload_file` with TransferConfig(multipart {RAW_W9_PART // MiB} MiB, max_concurrency "
                     f"{RAW_W9_THREADS}), timed the same way (poller). `upload began at` = first time the gateway's "
                     "PUT byte counter moved by > 1 MiB after the start; `uploaded by close` = bytes the gateway had "
                     "received when close() returned, of the file size; `uploaded / size` = all bytes the gateway "
                     "received during the step / file size (>1: uploads repeated).")
            L.append("")
        # ---- w10 table
        if "w10" in self.workloads:
            cols = BASE_W10 + self.clients
            L.append(f"## w10: {s['nfiles']} × {s['filesize'] // 1024} KiB new files, one writer (open, write, close)")
            L.append("")
            L.append("| column | files/s until durable ↑ | first create → all listed s ↓ | all closed s | files/s at close "
                     "| vs raw | vs best peer | uploaded / size | daemon CPU s/GB | peak RSS MiB | status |")
            L.append("|" + "---|" * 11)
            raw = self.med("raw-boto3", "w10", "files_s")
            pv = [self.med(c, "w10", "files_s") for c in self.clients if c != "s3mount"]
            pv = [p for p in pv if p]
            for c in cols:
                fs_, du, cl_ = self.med(c, "w10", "files_s"), self.med(c, "w10", "durable_s"), self.med(c, "w10", "close_s")
                am = self.med(c, "w10", "amplification")
                cpu, rss = self.med(c, "w10", "cpu_per_gb"), self.med(c, "w10", "rss_kib")
                L.append("| " + " | ".join([
                    c, fmt(fs_, "files/s"), fmt(du, "s"), fmt(cl_, "s"),
                    fmt(s["nfiles"] / cl_ if cl_ else None, "files/s"),
                    f"{fs_ / raw:.2f}" if fs_ and raw and c != "local-cached" else "—",
                    f"{fs_ / max(pv):.2f}" if fs_ and pv and c not in ("local-cached", "raw-boto3") else "—",
                    "—" if c == "local-cached" else fmt(am, "x"),
                    fmt(cpu, "s") if cpu is not None else "—", f"{rss / 1024:.0f}" if rss else "—",
                    self.status(c, "w10") or "ok"]) + " |")
            L.append("")
            L.append(f"files/s until durable = {s['nfiles']} / (first open → the first ListObjectsV2 of the run's prefix "
                     f"that shows all {s['nfiles']} keys with the right size; listing repeated with "
                     f"{HEAD_POLL_S * 1000:.0f} ms pauses). Writer: one Python thread, for each file open('wb'), one "
                     f"write of {s['filesize'] // 1024} KiB, close — like a training job's output. raw-boto3: "
                     f"{RAW_W10_THREADS} threads of put_object, timed the same way. local-cached: the same writer "
                     "into bench/work (page cache, no fsync): the floor of the writer itself.")
            L.append("")
        # ---- w11
        if "w11" in self.workloads and "s3mount" in self.clients:
            unit_b, lim = self.rate_unit()
            L.append(f"## w11: throttle — s3mount `--upload-bandwidth {self.rate}`, one {s['throttle'] // MiB} MiB file, "
                     "and a read beside the upload")
            L.append("")
            g = lambda k: self.med("s3mount", "w11", k)  # noqa: E731
            rows = [
                ("close() s", fmt(g("close_s"), "s")),
                ("of which: the last write() returned at s", fmt(g("written_s"), "s")),
                ("first byte → durable s", fmt(g("durable_s"), "s")),
                ("upload rate close → durable (gateway PUT bytes in that window / its length), MB/s",
                 fmt(g("rate_close_durable") / 1e6 if g("rate_close_durable") else None, "MB/s")),
                ("upload rate first upload byte → durable, MB/s",
                 fmt(g("rate_upload") / 1e6 if g("rate_upload") else None, "MB/s")),
                ("size / (first byte → durable), MB/s", fmt(g("rate") / 1e6 if g("rate") else None, "MB/s")),
                ("highest 1 s window of gateway PUT bytes, MB/s (the counter moves when a part completes: "
                 "8 MiB steps, so ±1 part in a 1 s window is sampling)", fmt(g("peak_1s") / 1e6 if g("peak_1s") else None, "MB/s")),
                ("highest 5 s window, MB/s", fmt(g("peak_5s") / 1e6 if g("peak_5s") else None, "MB/s")),
                ("configured limit", f"{lim / 1e6:.1f} MB/s ({self.rate}: {unit_b})"),
                ("read of the {0} MiB object beside the upload, MB/s".format(self.read_data.sizes[self.read_data.big] // MiB),
                 fmt(g("read_mbs"), "MB/s")),
                ("the same read alone (fresh mount, same options), MB/s", fmt(self.med("s3mount", "w11-read-alone", "read_mbs"), "MB/s")),
                ("daemon CPU s/GB (whole step: write, read, upload)", fmt(g("cpu_per_gb"), "s")),
                ("daemon peak RSS MiB", f"{g('rss_kib') / 1024:.0f}" if g("rss_kib") else "—"),
                ("uploaded / size", fmt(g("amplification"), "x")),
            ]
            L.append("| | median |")
            L.append("|---|---|")
            L += [f"| {a} | {b} |" for a, b in rows]
            L.append("")
            L.append("The read starts right after close() returned and the page cache was dropped, in the same mount, "
                     "while the upload goes on (a note says so if it outlived the upload); the gateway's PUT byte "
                     f"counter is sampled every {SAMPLE_S * 1000:.0f} ms.")
            L.append("")
        # ---- checks, notes
        L.append("## Checks and notes")
        L.append("")
        L.append("- Every uploaded object is checked after its clock stopped: w9/w11 — a GET of the whole object, "
                 "size and sha256 against the source; w10 — a GET of every file, size and sha256. A mismatch makes the "
                 "run FAILED. Keys are deleted after each step, and multipart uploads left open under the key are "
                 "aborted (and noted).")
        L.append(f"- Witness (upload bytes, upload start, throttle rate): {self.wit_desc}. It counts every PUT on that "
                 "gateway: other users of the same gateway during a step (the machine is shared: tests also use it) "
                 "would be counted too.")
        L.append("- Daemon CPU = utime+stime of the FUSE daemon from just before the writer starts to when the "
                 "object is durable (so an idle write-back delay costs nothing, background uploads are included), "
                 "per GB written; peak RSS = VmHWM at the end of the step (fresh mount per step).")
        L.append(f"- Known biases: (1) the server (Ceph OSD + radosgw), the FUSE daemon, the writer and the poller share "
                 f"{os.cpu_count()} cores, and the OSD, the local-disk baseline and the clients' cache dirs share one "
                 "disk: a client that writes its cache to disk competes with the OSD for it. (2) Durable times have a "
                 f"{HEAD_POLL_S * 1000:.0f} ms polling granularity (plus one HeadObject / ListObjectsV2 round trip). "
                 "(3) raw-boto3 w9 reads the source from tmpfs and never touches a disk; the FUSE clients first copy "
                 "the data into their own store (s3fs: a temp file; rclone: its VFS cache; s3mount: its cache dir). "
                 "(4) rclone-writes waits its default `--vfs-write-back 5s` after close before it starts to upload; "
                 "rclone-wb0 is the same with `--vfs-write-back 0s`. (5) Each client runs with its own defaults "
                 "(part size, upload concurrency); s3fs-tuned uses the options above.")
        notes = []
        for (col, wl), runs in self.results.items():
            for i, r in enumerate(runs):
                if r.get("note") or r["status"] != "ok":
                    notes.append(f"  - {col} {wl} run {i + 1}: {r['status']} {r.get('note', '')}".rstrip())
        if notes:
            L.append("- Per-run notes:")
            L += notes
        L.append("")
        # ---- all runs
        L.append("## All runs")
        L.append("")
        L.append("| column | workload | close s | durable s | files/s | CPU s/GB | other |")
        L.append("|---|---|---|---|---|---|---|")
        for (col, wl), runs in self.results.items():
            for i, r in enumerate(runs):
                other = []
                for k in ("written_s", "read_mbs", "rate_close_durable", "peak_1s", "peak_5s", "first_upload_s", "amplification"):
                    if isinstance(r.get(k), (int, float)):
                        mb = k in ("rate_close_durable", "peak_1s", "peak_5s")
                        other.append(f"{k}{' MB/s' if mb else ''} {r[k] / 1e6 if mb else r[k]:.3g}")
                L.append(f"| {col} | {wl} r{i + 1} | {fmt(r.get('close_s'), 's')} | {fmt(r.get('durable_s'), 's')} | "
                         f"{fmt(r.get('files_s'), 'files/s')} | {fmt(r.get('cpu_per_gb'), 's')} | "
                         f"{', '.join(other)}{'' if r['status'] == 'ok' else ' ' + r['status']} |")
        L.append("")
        L.append("## Machine and versions")
        L.append("")
        mi = B.machine_info(self.server)
        mi["s3mount"] = f"{bi['version']} (the binary and its commit: see the top)"
        L += [f"- {k}: {v}" for k, v in mi.items() if k not in ("fio",)]
        L.append(f"- s3mount help on --upload-bandwidth: {self.help_line('--upload-bandwidth') or 'not in --help'}")
        L.append("")
        L.append("## Exact commands")
        L.append("")
        L.append("```")
        L.append(f"# harness: BENCH_SUITE=write BENCH_SERVER={self.server} BENCH_SCALE={self.scale} "
                 f"BENCH_RUNS={self.runs} bench/run.sh   (or make bench-write)")
        L.append(f"# source: head -c {s['big']} /dev/urandom > {self.src}")
        self.commands.setdefault("w10 writer", f"python: for i in range({s['nfiles']}): open(MNT/{WPREFIX}w10-<col>-r<run>-"
                                 f"<time>-fNNNNN.bin, 'wb').write(SRC[i*{s['filesize']}:(i+1)*{s['filesize']}]) (close)")
        self.commands.setdefault("w10 raw-boto3", f"{RAW_W10_THREADS} threads: s3.put_object(Bucket, Key, Body=128 KiB slice)")
        for k, v in self.commands.items():
            L.append(f"# {k}\n{v}")
        L.append("```")
        text = "\n".join(L) + "\n"
        name = f"{self.server}-{now:%Y-%m-%d}-write" + ("" if self.scale == "full" else f"-{self.scale}") \
            + (f"-{os.environ['BENCH_TAG']}" if os.environ.get("BENCH_TAG") else "")
        out = RESULTS / f"{name}.md"
        out.write_text(text)
        self.meta.update(commands=self.commands, wit_desc=self.wit_desc, started=self.started.isoformat())
        raw = {"_meta": self.meta}
        raw.update({f"{c}|{w}": r for (c, w), r in self.results.items()})
        (RESULTS / f"{name}.raw.json").write_text(json.dumps(raw, indent=1, default=str))
        print(text)
        log(f"report: {out}")
        return out

    def help_line(self, opt):
        h = self.cfg["s3mount_help"]
        i = h.find(opt)
        if i < 0:
            return ""
        seg = h[i:].split("\n\n")[0]
        out = []
        for ln in seg.splitlines():
            if out and re.match(r"\s{2}--|\s{2}-\w,", ln):
                break
            out.append(ln.strip())
        return " ".join(out)[:400]

    def rate_unit(self):
        """bytes/s of BENCH_THROTTLE_RATE as s3mount reads it: binary suffixes (M = MiB) unless its --help says
        the suffixes are decimal"""
        m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGkmg]?)(i?)[Bb]?(?:/s)?", self.rate.strip())
        if not m:
            return "unparsed", float("nan")
        v, suf, i = float(m.group(1)), m.group(2).upper(), m.group(3)
        h = self.help_line("--upload-bandwidth")
        decimal = bool(re.search(r"decimal|10\^|1000|MB/s \(10|megabytes? \(10", h)) and not i
        base = 1000 if decimal else 1024
        mult = {"": 1, "K": base, "M": base ** 2, "G": base ** 3}[suf]
        return ("decimal (M = 10^6 bytes), as its --help says" if decimal else
                "binary: M = 2^20 bytes, so the limit is MiB/s (s3mount's size parser, ByteSize: K/M/G = 2^10/2^20/2^30)"), \
            v * mult


def fmt(v, unit):
    if v is None:
        return "—"
    if unit == "x":
        return f"{v:.2f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}" if v >= 1 else f"{v:.3f}"


def rerender(path):
    """`write_bench.py report RAW.json`: the report again from a run's raw values (same environment as the run:
    BENCH_SCALE, BENCH_RUNS, BENCH_WRITE_CLIENTS, BENCH_WRITE_WORKLOADS, S3MOUNT_BIN, BENCH_S3MOUNT_COMMIT)"""
    b = WBench()
    raw = json.loads(Path(path).read_text())
    b.meta = raw.pop("_meta", {})
    for k, runs in raw.items():
        c, w = k.split("|", 1)
        b.results[(c, w)] = runs
    b.src = SRC_DIR / f"src-{b.s['big'] // MiB}M.bin"
    if b.meta.get("started"):
        b.started = datetime.datetime.fromisoformat(b.meta["started"])
    else:
        b.started = datetime.datetime.fromtimestamp(Path(path).stat().st_mtime)
    b.commands = b.meta.get("commands") or {f"mount {c}": shlex.join(WClient(c, b.cfg).command()) for c in b.clients}
    b.wit_desc = b.meta.get("wit_desc")
    if not b.wit_desc:
        a = B.Witness(b.server, b.cfg["endpoint"])._find_asok() if b.server == "ceph" else None
        b.wit_desc = (f"radosgw admin socket {a}: perf dump rgw → rgw.put_b (bytes received by PUTs and parts)"
                      if a else "none available")
    b.report()


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "worker":
        worker_main(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "report":
        rerender(sys.argv[2])
        return
    B.run_to_the_end(WBench())


if __name__ == "__main__":
    main()
