#!/usr/bin/env python3
"""s3mount benchmark harness: s3mount vs s3fs (default, tuned) vs rclone mount (vfs off, full) vs raw HTTP,
same server, same data, same run.  Started by bench/run.sh (which installs tools, builds s3mount and starts
the server); it reads its settings from the environment:

  AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY             the server (one endpoint)
  BENCH_BUCKET (s3mount-bench: created if missing, data under <scale>/)
  BENCH_SERVER (ceph|juicefs)  BENCH_SCALE (full|small)  BENCH_RUNS (3)  S3MOUNT_BIN
  BENCH_CLIENTS   (s3mount,s3fs-default,s3fs-tuned,rclone-off,rclone-full)
  BENCH_WORKLOADS (w1,w2,w3,w4,w5,w6,w7,w8)   BENCH_STEP_TIMEOUT (s, per measured step)
  BENCH_S3MOUNT_OPTS / BENCH_S3FS_TUNED_OPTS / BENCH_RCLONE_OPTS       extra client options
  CEPH_CONF (ceph: to find the radosgw admin socket)  BENCH_JFS_METRICS (juicefs: metrics URL)
  BENCH_TRIAL=1   mark the report as a trial

`bench.py worker KIND ...` is the measuring side of one step (run as a subprocess so every step is
time-bounded and killable); it prints one JSON line.
"""
import datetime
import glob
import hashlib
import json
import os
import platform
import random
import re
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
WORK = BENCH / "work"
RESULTS = BENCH / "results"
MNT_ROOT = WORK / "mnt"
PIDS_DIR = WORK / "pids"
LOGS = WORK / "logs"
S3MOUNT_CACHE = WORK / "s3mount-cache"   # the s3mount column's --cache-dir, emptied at every mount
EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MiB = 1 << 20
PAGE = 4096

SCALES = {
    "full": dict(big=2 << 30, nfiles=2000, filesize=128 << 10, nlist=10000, fanin=256 << 20),
    "small": dict(big=256 << 20, nfiles=200, filesize=128 << 10, nlist=1000, fanin=64 << 20),
}
ALL_CLIENTS = ["s3mount", "s3fs-default", "s3fs-tuned", "rclone-off", "rclone-full"]
ALL_WORKLOADS = ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8"]
W3_READERS, W2_READERS, W7_READERS, W1_RAW_STREAMS, W4_IOS = 16, 4, 64, 8, 1000

# name, unit, higher-is-better
WL = {
    "w1": ("1. sequential read, 1 MiB reads, cold", "MB/s", True),
    "w2": (f"2. {W2_READERS} readers at different offsets, cold (aggregate)", "MB/s", True),
    "w3": (f"3. small files, {W3_READERS} parallel readers, cold", "files/s", True),
    "w4": (f"4. random 4 KiB reads ({W4_IOS}), cold", "reads/s", True),
    "w5": ("5. ls -l of the big directory, cold", "s", False),
    "w6": ("6. time to first byte (1-byte read, unopened object, fresh mount)", "ms", False),
    "w7": (f"7. {W7_READERS} readers of one file: bytes fetched from S3 / file size", "x", False),
    "w8": ("8. sequential read again, warm (no remount, no cache drop)", "MB/s", True),
}


def log(*a):
    print(time.strftime("[%H:%M:%S]"), *a, file=sys.stderr, flush=True)


def sh(cmd, timeout=60, env=None, check=False, capture=True):
    r = subprocess.run(cmd, timeout=timeout, env=env, text=True,
                       stdout=subprocess.PIPE if capture else None, stderr=subprocess.PIPE if capture else None)
    if check and r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} exited {r.returncode}: {(r.stderr or '')[-500:]}")
    return r


def median(xs):
    return statistics.median(xs) if xs else None


# ----------------------------------------------------------------------------------------------------
# deterministic data: content of a key is a function of (key, size), so a lost manifest can be rebuilt
def gen_chunks(key, size, chunk=64 * MiB):
    off, i = 0, 0
    while off < size:
        n = min(chunk, size - off)
        rng = random.Random(f"{key}#{i}")
        yield rng.getrandbits(n * 8).to_bytes(n, "little")
        off += n
        i += 1


class Data:
    def __init__(self, scale, server):
        s = SCALES[scale]
        self.scale, self.s = scale, s
        self.prefix = scale
        self.big = f"{self.prefix}/big.bin"
        self.fanin = f"{self.prefix}/fanin.bin"
        self.files = [f"{self.prefix}/files/f{i:05d}.bin" for i in range(s["nfiles"])]
        self.listdir = f"{self.prefix}/list"
        self.listkeys = [f"{self.listdir}/k{i:05d}" for i in range(s["nlist"])]
        self.sizes = {self.big: s["big"], self.fanin: s["fanin"]}
        self.sizes.update({k: s["filesize"] for k in self.files})
        self.sizes.update({k: 1024 for k in self.listkeys})
        self.manifest_path = WORK / f"manifest-{server}-{scale}.json"
        self.manifest = {}

    def ensure(self, s3, bucket):
        if self.manifest_path.exists():
            self.manifest = json.loads(self.manifest_path.read_text())
        present = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=self.prefix + "/"):
            for o in page.get("Contents", []):
                present[o["Key"]] = o["Size"]
        todo = [k for k, sz in self.sizes.items()
                if present.get(k) != sz or k not in self.manifest or self.manifest[k]["size"] != sz]
        log(f"data: {len(self.sizes)} objects under s3://{bucket}/{self.prefix}/, {len(todo)} to upload")
        lock = threading.Lock()

        def put(key):
            size = self.sizes[key]
            h = hashlib.sha256()
            first = None
            if size > 64 * MiB:
                up = s3.create_multipart_upload(Bucket=bucket, Key=key)
                parts = []
                for n, chunk in enumerate(gen_chunks(key, size), 1):
                    first = first if first is not None else chunk[0]
                    h.update(chunk)
                    r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n, Body=chunk)
                    parts.append({"PartNumber": n, "ETag": r["ETag"]})
                s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                             MultipartUpload={"Parts": parts})
            else:
                body = b"".join(gen_chunks(key, size))
                first = body[0]
                h.update(body)
                s3.put_object(Bucket=bucket, Key=key, Body=body)
            with lock:
                self.manifest[key] = {"size": size, "sha256": h.hexdigest(), "first": first}

        big = [k for k in todo if self.sizes[k] > 64 * MiB]
        small = [k for k in todo if self.sizes[k] <= 64 * MiB]
        for k in big:
            put(k)
        with ThreadPoolExecutor(32) as ex:
            list(ex.map(put, small))
        if todo:
            self.manifest_path.write_text(json.dumps(self.manifest))
        # every object as the server has it now: size from the listing must match
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=self.prefix + "/"):
            for o in page.get("Contents", []):
                present[o["Key"]] = o["Size"]
        bad = [k for k, sz in self.sizes.items() if present.get(k) != sz]
        if bad:
            raise RuntimeError(f"{len(bad)} objects missing or of the wrong size after upload, e.g. {bad[:3]}")

    def sha(self, key):
        return self.manifest[key]["sha256"]


# ----------------------------------------------------------------------------------------------------
# S3 server witness: bytes the server sent for GETs
class Witness:
    def __init__(self, server, endpoint):
        self.server, self.endpoint, self.asok, self.desc = server, endpoint, None, None
        self.port = urllib.parse.urlparse(endpoint).port

    def _find_asok(self):
        conf = os.environ.get("CEPH_CONF", "")
        run_dirs = []
        if conf and os.path.exists(conf):
            m = re.search(r"^\s*run_dir\s*=\s*(\S+)", Path(conf).read_text(), re.M)
            if m:
                run_dirs.append(m.group(1))
        for rd in run_dirs:
            for a in sorted(glob.glob(f"{rd}/ceph-client.rgw.*.asok")):
                m = re.search(r"\.(\d+)\.\d+\.asok$", a)
                if m and not os.path.exists(f"/proc/{m.group(1)}"):
                    continue  # socket of a radosgw that is gone
                try:
                    r = sh(["ceph", "--admin-daemon", a, "config", "get", "rgw_frontends"], timeout=15)
                except subprocess.TimeoutExpired:
                    continue
                if r.returncode == 0 and re.search(rf"[:=]{self.port}\b", r.stdout):
                    return a
        return None

    def get_bytes(self):
        if self.server == "ceph":
            for attempt in range(2):
                if not self.asok or not os.path.exists(self.asok):
                    self.asok = self._find_asok()
                if not self.asok:
                    return None
                try:
                    r = sh(["ceph", "--admin-daemon", self.asok, "perf", "dump", "rgw"], timeout=15)
                    if r.returncode == 0:
                        self.desc = f"ceph --admin-daemon {self.asok} perf dump rgw → rgw.get_b"
                        return int(json.loads(r.stdout)["rgw"]["get_b"])
                except (subprocess.TimeoutExpired, ValueError, KeyError):
                    pass
                self.asok = None
            return None
        if self.server == "juicefs":
            url = os.environ.get("BENCH_JFS_METRICS")
            if not url:
                return None
            try:
                text = urllib.request.urlopen(url, timeout=10).read().decode()
            except OSError:
                return None
            tot = None
            for line in text.splitlines():
                if line.startswith("juicefs_object_request_data_bytes") and 'method="GET"' in line:
                    tot = (tot or 0) + float(line.split()[-1])
            self.desc = f"{url} juicefs_object_request_data_bytes{{method=GET}} (gateway → its block store)"
            return None if tot is None else int(tot)
        return None


# ----------------------------------------------------------------------------------------------------
# FUSE clients
def proc_stat(pid):
    """(cpu seconds, VmHWM KiB) of a process, or None if it is gone."""
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        hwm = 0
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
        return cpu, hwm
    except (OSError, IndexError, ValueError):
        return None


def pids_on(mnt):
    """Processes with the mountpoint as one of their arguments (the FUSE daemon), like pgrep -f, exact."""
    out = []
    targets = {str(mnt), str(mnt) + "/"}
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            argv = Path(f"/proc/{d}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.decode(errors="replace") in targets for a in argv):
            out.append(int(d))
    return out


def is_mounted(mnt):
    mnt = str(mnt)
    try:
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            if line.split()[4] == mnt:
                return True
    except OSError:
        pass
    return False


class Client:
    def __init__(self, name, cfg):
        self.name, self.cfg = name, cfg
        self.mnt = MNT_ROOT / name
        self.pids = []
        self.count = 0

    def command(self):
        c, ep, b = self.cfg, self.cfg["endpoint"], self.cfg["bucket"]
        if self.name == "s3mount":
            # its own --cache-dir, emptied at every mount (as rclone-full's cache is): the cache tier is on by
            # default and outlives the mount, so the default directory would serve a "cold" epoch from local disk
            return [c["s3mount_bin"], b, str(self.mnt), "--endpoint", ep, "--region", "us-east-1",
                    "--log-file", str(LOGS / "s3mount.log"), "--cache-dir", str(S3MOUNT_CACHE)] \
                + shlex.split(os.environ.get("BENCH_S3MOUNT_OPTS", ""))
        if self.name.startswith("s3fs"):
            o = f"url={ep},use_path_request_style,passwd_file={c['s3fs_passwd']},endpoint=us-east-1"
            if self.name == "s3fs-tuned":
                o += "," + os.environ.get("BENCH_S3FS_TUNED_OPTS", c["s3fs_tuned"])
            return ["s3fs", b, str(self.mnt), "-o", o]
        if self.name.startswith("rclone"):
            mode = self.name.split("-")[1]
            return ["rclone", "mount", f"bench:{b}", str(self.mnt), "--config", c["rclone_conf"],
                    "--vfs-cache-mode", mode, "--cache-dir", str(WORK / "rclone-cache"), "--daemon",
                    "--log-file", str(LOGS / f"{self.name}.log")] + shlex.split(os.environ.get("BENCH_RCLONE_OPTS", ""))
        raise ValueError(self.name)

    def env(self):
        e = dict(os.environ)
        if self.name.startswith("rclone"):
            e.pop("AWS_CA_BUNDLE", None)  # rclone refuses to start with it set
        return e

    def mount(self):
        self.unmount()
        self.mnt.mkdir(parents=True, exist_ok=True)
        if self.name == "rclone-full":
            sh(["rm", "-rf", str(WORK / "rclone-cache")], timeout=120)
        if self.name.startswith("s3mount"):
            sh(["rm", "-rf", str(S3MOUNT_CACHE)], timeout=300)
        # output to a file, not a pipe: a daemon that keeps the pipe open would block us until the timeout
        out = LOGS / f"{self.name}.mount.out"
        with open(out, "w") as f:
            rc = subprocess.run(self.command(), timeout=90, env=self.env(), stdin=subprocess.DEVNULL,
                                stdout=f, stderr=subprocess.STDOUT).returncode
        if rc != 0:
            raise RuntimeError(f"mount {self.name} failed ({rc}): {out.read_text()[-800:]}")
        t0 = time.time()
        while not is_mounted(self.mnt):
            if time.time() - t0 > 60:
                raise RuntimeError(f"{self.name}: {self.mnt} not mounted 60 s after the command returned")
            time.sleep(0.05)
        # a listing of the root proves the daemon answers (not timed)
        sh(["ls", str(self.mnt)], timeout=60)
        for _ in range(50):
            self.pids = pids_on(self.mnt)
            if self.pids:
                break
            time.sleep(0.1)
        for p in self.pids:
            (PIDS_DIR / str(p)).write_text(str(self.mnt))
        self.count += 1

    def stat(self):
        cpu, hwm = 0.0, 0
        for p in self.pids:
            s = proc_stat(p)
            if s:
                cpu += s[0]
                hwm += s[1]
        return cpu, hwm

    def unmount(self):
        if is_mounted(self.mnt):
            r = sh(["fusermount3", "-u", str(self.mnt)], timeout=60)
            if r.returncode != 0:
                time.sleep(1)
                r = sh(["fusermount3", "-u", str(self.mnt)], timeout=60)
                if r.returncode != 0:
                    sh(["umount", "-l", str(self.mnt)], timeout=60)
        for p in self.pids + pids_on(self.mnt):
            for _ in range(100):
                if not os.path.exists(f"/proc/{p}"):
                    break
                time.sleep(0.1)
            else:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            (PIDS_DIR / str(p)).unlink(missing_ok=True)
        self.pids = []
        if self.name == "rclone-full":
            sh(["rm", "-rf", str(WORK / "rclone-cache")], timeout=120)

    def path(self, key):
        return str(self.mnt / key)


def read_and_check(s3, bucket, keys, expected_sha):
    """Reads every key once from the server (16 at a time) and checks its sha256 against expected_sha(key) (None:
    not checked); a mismatch raises. Every suite's warm-up: the server's caches equally warm for every column, and
    its copy known to be right."""
    def get(k):
        body = s3.get_object(Bucket=bucket, Key=k)["Body"]
        h = hashlib.sha256()
        for chunk in iter(lambda: body.read(8 * MiB), b""):
            h.update(chunk)
        expected = expected_sha(k)
        if expected is not None and h.hexdigest() != expected:
            raise RuntimeError(f"server copy of {k} does not match the manifest")
    with ThreadPoolExecutor(16) as ex:
        list(ex.map(get, keys))


def drop_caches():
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


# ----------------------------------------------------------------------------------------------------
# workers (run in a subprocess: `bench.py worker KIND JSON-ARGS`); each prints one JSON result
def fio_json(out):
    return json.loads(out[out.index("{"):])


def fio_cmd(name, path, extra):
    return ["fio", f"--name={name}", f"--filename={path}", "--ioengine=psync", "--readonly", "--invalidate=0",
            "--output-format=json"] + extra


def w_fio(a):
    r = sh(a["cmd"], timeout=a["timeout"])
    if r.returncode != 0:
        return {"error": f"fio rc={r.returncode}: {r.stderr[-400:]}"}
    j = fio_json(r.stdout)["jobs"][0]["read"]
    if j["io_bytes"] != a["expect_bytes"]:
        return {"error": f"fio read {j['io_bytes']} bytes, expected {a['expect_bytes']}"}
    return {"bw": j["bw_bytes"], "iops": j["iops"], "bytes": j["io_bytes"]}


def read_all(path, bs=MiB, hash_=True):
    h = hashlib.sha256()
    n = 0
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(bs)
            if not b:
                break
            n += len(b)
            if hash_:
                h.update(b)
    return n, h.hexdigest()


def w_sha(a):
    n, d = read_all(a["path"])
    return {"bytes": n, "sha256": d}


def w_files(a):
    """read every file once with N threads into memory set aside and touched before the clock starts (as a loader
    reads into its own buffers), stop the clock, then hash: neither hashing nor the reader's page faults are timed."""
    paths = a["paths"]
    slot = a["size"] + 1  # a byte more than the file should hold: a longer file shows as a mismatch, not a cut
    memory = bytearray(slot * len(paths))
    memory[::PAGE] = b"\x01" * len(range(0, len(memory), PAGE))  # touch every page now, not inside the clock
    view = memoryview(memory)
    lengths = [0] * len(paths)

    def one(i):
        into = view[i * slot:(i + 1) * slot]
        n = 0
        with open(paths[i], "rb", buffering=0) as f:
            while n < slot:
                got = f.readinto(into[n:])
                if not got:
                    break
                n += got
        lengths[i] = n

    t0 = time.perf_counter()
    with ThreadPoolExecutor(a["threads"]) as ex:
        list(ex.map(one, range(len(paths))))
    dt = time.perf_counter() - t0
    return {"seconds": dt, "sha256": [hashlib.sha256(view[i * slot:i * slot + n]).hexdigest()
                                      for i, n in enumerate(lengths)]}


def w_fanin(a):
    """N threads read the same file at once (start on a barrier), hashing as they go."""
    n = a["threads"]
    bar = threading.Barrier(n)
    res = [None] * n

    def one(i):
        bar.wait()
        res[i] = read_all(a["path"])

    t0 = time.perf_counter()
    ths = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    dt = time.perf_counter() - t0
    return {"seconds": dt, "results": res}


def w_ls(a):
    t0 = time.perf_counter()
    r = subprocess.run(["ls", "-l", a["path"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t0
    lines = [l for l in r.stdout.splitlines() if not l.startswith("total")]
    return {"seconds": dt, "entries": len(lines), "rc": r.returncode, "stderr": r.stderr[-300:]}


def w_ttfb(a):
    t0 = time.perf_counter()
    fd = os.open(a["path"], os.O_RDONLY)
    b = os.read(fd, 1)
    dt = time.perf_counter() - t0
    os.close(fd)
    return {"seconds": dt, "byte": b[0] if b else None}


def w_odirect(a):
    import mmap
    try:
        fd = os.open(a["path"], os.O_RDONLY | os.O_DIRECT)
    except OSError as e:
        return {"direct": False, "why": str(e)}
    try:
        buf = mmap.mmap(-1, 4096)
        os.preadv(fd, [buf], 0)
        return {"direct": True}
    except OSError as e:
        return {"direct": False, "why": str(e)}
    finally:
        os.close(fd)


def w_list(a):
    import boto3
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=a["endpoint"], config=Config(s3={"addressing_style": "path"}))
    t0 = time.perf_counter()
    n = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=a["bucket"], Prefix=a["prefix"] + "/"):
        n += len(page.get("Contents", []))
    return {"seconds": time.perf_counter() - t0, "entries": n}


WORKERS = {"fio": w_fio, "sha": w_sha, "files": w_files, "fanin": w_fanin, "ls": w_ls, "ttfb": w_ttfb,
           "odirect": w_odirect, "list": w_list}


def worker_main(kind, arg):
    a = json.loads(arg)
    try:
        out = WORKERS[kind](a)
    except Exception as e:  # reported as the cell's error
        out = {"error": f"{type(e).__name__}: {e}"}
    sys.stdout.write(json.dumps(out) + "\n")


def run_worker(kind, args, timeout):
    """Run one measured step in a subprocess; returns its JSON or {'timeout': True} / {'error': ...}."""
    p = subprocess.Popen([sys.executable, __file__, "worker", kind, json.dumps(args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        try:
            p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        return {"timeout": True}
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": f"worker {kind} rc={p.returncode}: {err[-400:]}"}


# ----------------------------------------------------------------------------------------------------
# raw HTTP baselines (curl, one process each, SigV4 by curl)
class Raw:
    def __init__(self, cfg):
        self.cfg = cfg
        self.url = lambda k: f"{cfg['endpoint']}/{cfg['bucket']}/{urllib.parse.quote(k)}"
        self.auth = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", f"{cfg['ak']}:{cfg['sk']}",
                     "-H", f"x-amz-content-sha256: {EMPTY_SHA}"]

    def auth_cfg(self):
        return (f'aws-sigv4 = "aws:amz:us-east-1:s3"\nuser = "{self.cfg["ak"]}:{self.cfg["sk"]}"\n'
                f'header = "x-amz-content-sha256: {EMPTY_SHA}"\nfail\nsilent\nshow-error\n')

    def curl(self, extra, timeout):
        return sh(["curl", "-sS", "--fail"] + self.auth + extra, timeout=timeout)

    def config(self, name, blocks):
        p = WORK / f"curl-{name}.cfg"
        p.write_text("\nnext\n".join(blocks) + "\n")
        return p


# ----------------------------------------------------------------------------------------------------
class Bench:
    def __init__(self):
        e = os.environ
        self.server = e.get("BENCH_SERVER", "ceph")
        self.scale = e.get("BENCH_SCALE", "full")
        self.runs = int(e.get("BENCH_RUNS", "3"))
        self.clients = [c for c in e.get("BENCH_CLIENTS", ",".join(ALL_CLIENTS)).split(",") if c]
        self.workloads = [w for w in e.get("BENCH_WORKLOADS", ",".join(ALL_WORKLOADS)).split(",") if w]
        if "w8" in self.workloads and "w1" not in self.workloads:
            self.workloads.insert(0, "w1")
        self.step_timeout = int(e.get("BENCH_STEP_TIMEOUT", "1800" if self.scale == "full" else "300"))
        # a bucket of its own: the benchmark's keys must not show up in the listings tests make of S3_BUCKET
        self.cfg = dict(endpoint=e["AWS_ENDPOINT_URL"].rstrip("/"), bucket=e.get("BENCH_BUCKET", "s3mount-bench"),
                        ak=e["AWS_ACCESS_KEY_ID"], sk=e["AWS_SECRET_ACCESS_KEY"],
                        s3mount_bin=e["S3MOUNT_BIN"],
                        s3fs_passwd=str(WORK / "s3fs.passwd"), rclone_conf=str(WORK / "rclone.conf"),
                        s3fs_tuned="parallel_count=16,multipart_size=16,max_background=64,multireq_max=64,"
                                   "max_stat_cache_size=100000,enable_noobj_cache")
        self.data = Data(self.scale, self.server)
        self.witness = Witness(self.server, self.cfg["endpoint"])
        self.raw = Raw(self.cfg)
        self.results = {}   # (column, workload) -> list of run dicts
        self.commands = {}
        self.started = datetime.datetime.now()

    # -- setup
    def setup(self):
        for d in (WORK, MNT_ROOT, PIDS_DIR, LOGS, RESULTS):
            d.mkdir(parents=True, exist_ok=True)
        pw = Path(self.cfg["s3fs_passwd"])
        pw.write_text(f"{self.cfg['ak']}:{self.cfg['sk']}\n")
        pw.chmod(0o600)
        Path(self.cfg["rclone_conf"]).write_text(
            "[bench]\ntype = s3\nprovider = Other\nenv_auth = false\n"
            f"access_key_id = {self.cfg['ak']}\nsecret_access_key = {self.cfg['sk']}\n"
            f"endpoint = {self.cfg['endpoint']}\nregion = us-east-1\nforce_path_style = true\n")
        import boto3
        from botocore.config import Config
        self.s3 = boto3.client("s3", endpoint_url=self.cfg["endpoint"],
                               config=Config(max_pool_connections=40, s3={"addressing_style": "path"},
                                             retries={"max_attempts": 5}))
        try:
            self.s3.head_bucket(Bucket=self.cfg["bucket"])
        except Exception:
            self.s3.create_bucket(Bucket=self.cfg["bucket"])
        self.data.ensure(self.s3, self.cfg["bucket"])
        self.clients_obj = {c: Client(c, self.cfg) for c in self.clients}
        for c in self.clients_obj.values():
            self.commands[f"mount {c.name}"] = shlex.join(c.command())
        self.warmup()

    def warmup(self):
        """Read every object once from the server and check it against the manifest, so the server's own
        caches are equally warm for every client and the server's copy is known to be right."""
        log("warm-up: reading all benchmark objects once from the server (and checking sha256)")
        d = self.data
        read_and_check(self.s3, self.cfg["bucket"], [d.big, d.fanin] + d.files + d.listkeys,
                       lambda k: d.sha(k) if k in d.manifest else None)

    # -- bookkeeping
    def record(self, col, wl, run):
        self.results.setdefault((col, wl), []).append(run)
        v = run.get("value")
        log(f"  {col:13s} {wl} run {len(self.results[(col, wl)])}: "
            f"{run.get('status')} {'' if v is None else round(v, 3)} {WL[wl][1]}"
            + (f"  cpu {run['cpu']:.2f}s rss {run['rss_kib'] // 1024} MiB" if "cpu" in run else "")
            + (f"  ({run['note']})" if run.get("note") else ""))

    # -- one workload through one client mount
    def fuse_step(self, cl, wl, run_idx):
        d, size = self.data, self.data.s["big"]
        to = self.step_timeout
        try:
            cl.mount()
        except Exception as e:
            self.record(cl.name, wl, {"status": "ERROR", "note": str(e)[:300]})
            if wl == "w1" and "w8" in self.workloads:
                self.record(cl.name, "w8", {"status": "ERROR", "note": "mount failed"})
            cl.unmount()
            return
        try:
            extra = {}
            if wl == "w4":
                pr = run_worker("odirect", {"path": cl.path(d.listkeys[0])}, 60)
                extra["direct"] = bool(pr.get("direct"))
            drop_caches()
            b0 = self.witness.get_bytes() if wl != "w7" else None
            c0, _ = cl.stat()
            res = self.measure(cl, wl, run_idx, extra)
            c1, hwm = cl.stat()
            res.update(cpu=c1 - c0, rss_kib=hwm)
            b1 = self.witness.get_bytes() if wl != "w7" else None
            if b0 is not None and b1 is not None:
                res["s3_bytes"] = b1 - b0
            if not cl.pids:
                res["note"] = (res.get("note", "") + " daemon pid not found").strip()
            if wl == "w1" and "w8" in self.workloads:
                self.record(cl.name, wl, res)
                b0 = self.witness.get_bytes()
                c0, _ = cl.stat()
                r8 = self.seq(cl.path(d.big), size, "w8")
                c1, hwm = cl.stat()
                r8.update(cpu=c1 - c0, rss_kib=hwm)
                b1 = self.witness.get_bytes()
                if b0 is not None and b1 is not None:
                    r8["s3_bytes"] = b1 - b0
                self.record(cl.name, "w8", r8)
                self.verify_w1(cl, res, r8)
                return
            if wl == "w1":
                self.verify_w1(cl, res, None)
            self.record(cl.name, wl, res)
        finally:
            cl.unmount()

    def verify_w1(self, cl, r1, r8):
        """sha256 of the big object read through the same mount after the timed read(s); a mismatch turns
        the w1 (and w8) runs of this mount into FAILED (the dicts are already recorded: changed in place)."""
        v = run_worker("sha", {"path": cl.path(self.data.big)}, self.step_timeout)
        if v.get("sha256") == self.data.sha(self.data.big):
            return
        for r in (r1, r8):
            if r is not None and r.get("status") == "ok":
                r["status"] = "FAILED"
                r["note"] = f"sha256 through the mount mismatch: {v.get('sha256') or v}"[:300]
        log(f"  {cl.name}: big object sha256 through the mount MISMATCH: {v}")

    def seq(self, path, size, name):
        cmd = fio_cmd(name, path, ["--rw=read", "--bs=1M", f"--size={size}"])
        self.commands.setdefault(name, shlex.join(cmd).replace(path, "MNT/<big>"))
        r = run_worker("fio", {"cmd": cmd, "timeout": self.step_timeout, "expect_bytes": size}, self.step_timeout + 30)
        return self.from_fio(r, lambda j: j["bw"] / 1e6)

    def from_fio(self, r, f):
        if r.get("timeout"):
            return {"status": "TIMEOUT"}
        if "error" in r:
            return {"status": "ERROR", "note": r["error"][:300]}
        return {"status": "ok", "value": f(r)}

    def measure(self, cl, wl, run_idx, extra):
        d, size, to = self.data, self.data.s["big"], self.step_timeout
        if wl == "w1":
            return self.seq(cl.path(d.big), size, "w1")
        if wl == "w2":
            q = size // W2_READERS
            cmd = fio_cmd("w2", cl.path(d.big), ["--rw=read", "--bs=1M", f"--size={q}", f"--numjobs={W2_READERS}",
                                                 f"--offset_increment={q}", "--group_reporting"])
            self.commands.setdefault("w2", shlex.join(cmd).replace(cl.path(d.big), "MNT/<big>"))
            r = run_worker("fio", {"cmd": cmd, "timeout": to, "expect_bytes": size}, to + 30)
            return self.from_fio(r, lambda j: j["bw"] / 1e6)
        if wl == "w3":
            r = run_worker("files", {"paths": [cl.path(k) for k in d.files], "threads": W3_READERS,
                                      "size": max(d.sizes[k] for k in d.files)}, to)
            if r.get("timeout"):
                return {"status": "TIMEOUT"}
            if "error" in r:
                return {"status": "ERROR", "note": r["error"][:300]}
            bad = sum(1 for k, h in zip(d.files, r["sha256"]) if h != d.sha(k))
            res = {"status": "ok" if bad == 0 else "FAILED", "value": len(d.files) / r["seconds"]}
            if bad:
                res["note"] = f"{bad} of {len(d.files)} files: sha256 mismatch"
            return res
        if wl == "w4":
            direct = extra.get("direct", False)
            cmd = fio_cmd("w4", cl.path(d.big), ["--rw=randread", "--bs=4k", f"--number_ios={W4_IOS}",
                                                 f"--size={size}", "--norandommap", "--randrepeat=0",
                                                 "--randseed=20240601", f"--direct={int(direct)}"])
            self.commands.setdefault(f"w4 direct={int(direct)}", shlex.join(cmd).replace(cl.path(d.big), "MNT/<big>"))
            r = run_worker("fio", {"cmd": cmd, "timeout": to, "expect_bytes": W4_IOS * 4096}, to + 30)
            res = self.from_fio(r, lambda j: j["iops"])
            res["note"] = "O_DIRECT" if direct else "buffered (no O_DIRECT), page cache dropped"
            return res
        if wl == "w5":
            r = run_worker("ls", {"path": cl.path(d.listdir)}, to)
            if r.get("timeout"):
                return {"status": "TIMEOUT"}
            if "error" in r:
                return {"status": "ERROR", "note": r["error"]}
            ok = r["rc"] == 0 and r["entries"] == len(d.listkeys)
            return {"status": "ok" if ok else "FAILED", "value": r["seconds"],
                    "note": "" if ok else f"ls rc={r['rc']}, {r['entries']} entries of {len(d.listkeys)} {r['stderr']}"}
        if wl == "w6":
            key = self.ttfb_key(cl.name, run_idx)
            r = run_worker("ttfb", {"path": cl.path(key)}, to)
            if r.get("timeout"):
                return {"status": "TIMEOUT"}
            if "error" in r:
                return {"status": "ERROR", "note": r["error"]}
            ok = r["byte"] == d.manifest[key]["first"]
            return {"status": "ok" if ok else "FAILED", "value": r["seconds"] * 1000,
                    "note": "" if ok else "first byte differs"}
        if wl == "w7":
            return self.fanin(lambda: run_worker("fanin", {"path": cl.path(d.fanin), "threads": W7_READERS}, to))
        raise ValueError(wl)

    def ttfb_key(self, col, run_idx):
        # a different object for every (column, run), never read through this mount before
        cols = ["raw"] + self.clients
        i = (run_idx * len(cols) + cols.index(col)) % len(self.data.files)
        return self.data.files[-1 - i]

    def fanin(self, fn):
        d = self.data
        b0 = self.witness.get_bytes()
        r = fn()
        time.sleep(2)  # let in-flight prefetches finish and the counter settle
        b1 = self.witness.get_bytes()
        if r.get("timeout"):
            return {"status": "TIMEOUT"}
        if "error" in r:
            return {"status": "ERROR", "note": r["error"][:300]}
        res = {"status": "ok"}
        bad = [x for x in r.get("results", []) if x[0] != d.s["fanin"] or x[1] != d.sha(d.fanin)]
        if bad:
            res.update(status="FAILED", note=f"{len(bad)} of {W7_READERS} readers got wrong data")
        if b0 is None or b1 is None:
            res.update(status="n/a" if not bad else "FAILED", note=(res.get("note", "") + " no server witness").strip())
        else:
            res["value"] = (b1 - b0) / d.s["fanin"]
            res["s3_bytes"] = b1 - b0
        res["seconds"] = r.get("seconds")
        return res

    # -- raw baselines
    def raw_steps(self, run_idx):
        d, size, to, raw = self.data, self.data.s["big"], self.step_timeout, self.raw
        wls = self.workloads
        drop_caches()
        if "w1" in wls:
            args = ["-o", "/dev/null", "-w", "%{size_download} %{time_total}", raw.url(d.big)]
            self.commands.setdefault("raw w1 (1 stream)", shlex.join(["curl", "-sS", "--fail"] + raw.auth + args))
            r = self.try_(lambda: raw.curl(args, to))
            self.record("raw-1", "w1", self.curl_rate(r, size))
            n = W1_RAW_STREAMS
            self.record("raw-N", "w1", self.ranged(d.big, size, n, "w1"))
        if "w2" in wls:
            self.record("raw-N", "w2", self.ranged(d.big, size, W2_READERS, "w2"))
        if "w3" in wls:
            blocks = [raw.auth_cfg() + f'parallel\nparallel-max = {W3_READERS}\n']
            body = "".join(f'url = "{raw.url(k)}"\noutput = "/dev/null"\n' for k in d.files)
            cfgp = WORK / "curl-w3.cfg"
            cfgp.write_text(blocks[0] + body)
            cmd = ["curl", "-K", str(cfgp)]
            self.commands.setdefault("raw w3", shlex.join(cmd) + f"   # {cfgp.name}: parallel, parallel-max {W3_READERS}, "
                                     f"one url/output pair per file, SigV4 options")
            t0 = time.perf_counter()
            r = self.try_(lambda: sh(cmd, timeout=to))
            dt = time.perf_counter() - t0
            self.record("raw-N", "w3", self.ok_or(r, len(d.files) / dt))
        if "w4" in wls:
            rng = random.Random(20240601 + run_idx)
            blocks = []
            for i in range(W4_IOS):
                off = rng.randrange(size // 4096) * 4096
                blocks.append(raw.auth_cfg() + f'url = "{raw.url(d.big)}"\nrange = "{off}-{off + 4095}"\n'
                              f'output = "/dev/null"\n')
            cfgp = raw.config("w4", blocks)
            cmd = ["curl", "-K", str(cfgp)]
            self.commands.setdefault("raw w4", shlex.join(cmd) + f"   # {cfgp.name}: {W4_IOS} blocks (url, random "
                                     "4 KiB range, SigV4) joined by `next`: sequential, one kept-alive connection")
            t0 = time.perf_counter()
            r = self.try_(lambda: sh(cmd, timeout=to))
            dt = time.perf_counter() - t0
            self.record("raw-1", "w4", self.ok_or(r, W4_IOS / dt))
        if "w5" in wls:
            r = run_worker("list", {"endpoint": self.cfg["endpoint"], "bucket": self.cfg["bucket"], "prefix": d.listdir}, to)
            self.commands.setdefault("raw w5", "boto3 list_objects_v2 paginator (1000 keys a page) over PREFIX/list/")
            if "error" in r or r.get("timeout"):
                self.record("raw-1", "w5", {"status": "ERROR", "note": str(r)[:300]})
            else:
                ok = r["entries"] == len(d.listkeys)
                self.record("raw-1", "w5", {"status": "ok" if ok else "FAILED", "value": r["seconds"]})
        if "w6" in wls:
            key = self.ttfb_key("raw", run_idx)
            args = ["-r", "0-0", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", raw.url(key)]
            self.commands.setdefault("raw w6", shlex.join(["curl", "-sS", "--fail"] + raw.auth + args))
            r = self.try_(lambda: raw.curl(args, to))
            if isinstance(r, dict):
                self.record("raw-1", "w6", r)
            else:
                n, t = r.stdout.split()
                self.record("raw-1", "w6", {"status": "ok" if r.returncode == 0 and n == "1" else "ERROR",
                                            "value": float(t) * 1000})
        if "w7" in wls:
            args = ["-o", "/dev/null", raw.url(d.fanin)]
            self.record("raw-1", "w7", self.fanin(lambda: (lambda r: {"error": r["note"]} if isinstance(r, dict)
                                                           else ({} if r.returncode == 0 else {"error": r.stderr}))(
                self.try_(lambda: raw.curl(args, to)))))

    def try_(self, fn):
        try:
            return fn()
        except subprocess.TimeoutExpired:
            return {"status": "TIMEOUT"}
        except Exception as e:
            return {"status": "ERROR", "note": str(e)[:300]}

    def ok_or(self, r, value):
        if isinstance(r, dict):
            return r
        if r.returncode != 0:
            return {"status": "ERROR", "note": r.stderr[-300:]}
        return {"status": "ok", "value": value}

    def curl_rate(self, r, size):
        if isinstance(r, dict):
            return r
        if r.returncode != 0:
            return {"status": "ERROR", "note": r.stderr[-300:]}
        n, t = r.stdout.split()
        if int(n) != size:
            return {"status": "ERROR", "note": f"got {n} bytes"}
        return {"status": "ok", "value": size / float(t) / 1e6}

    def ranged(self, key, size, n, name):
        raw = self.raw
        part = size // n
        blocks = []
        for i in range(n):
            lo, hi = i * part, (size - 1 if i == n - 1 else (i + 1) * part - 1)
            blocks.append((f"parallel\nparallel-max = {n}\n" if i == 0 else "") + raw.auth_cfg()
                          + f'url = "{raw.url(key)}"\nrange = "{lo}-{hi}"\noutput = "/dev/null"\n'
                          + 'write-out = "%{size_download} %{time_total}\\n"\n')
        cfgp = raw.config(f"{name}-ranged", blocks)
        cmd = ["curl", "-K", str(cfgp)]
        self.commands.setdefault(f"raw {name} ({n} ranged)", shlex.join(cmd) + f"   # {cfgp.name}: {n} blocks (url, "
                                 "range, SigV4) joined by `next`, parallel; rate = bytes / slowest transfer's time_total")
        r = self.try_(lambda: sh(cmd, timeout=self.step_timeout))
        if isinstance(r, dict):
            return r
        if r.returncode != 0:
            return {"status": "ERROR", "note": r.stderr[-300:]}
        rows = [l.split() for l in r.stdout.splitlines() if l.strip()]
        got = sum(int(a) for a, _ in rows)
        if got != size or len(rows) != n:
            return {"status": "ERROR", "note": f"ranged GETs got {got} bytes in {len(rows)} transfers"}
        return {"status": "ok", "value": size / max(float(t) for _, t in rows) / 1e6}

    # -- main loop
    def run(self):
        self.setup()
        for run_idx in range(self.runs):
            log(f"=== run {run_idx + 1}/{self.runs}: raw baselines")
            self.raw_steps(run_idx)
            for c in self.clients:
                cl = self.clients_obj[c]
                log(f"=== run {run_idx + 1}/{self.runs}: {c}")
                for wl in self.workloads:
                    if wl == "w8":
                        continue  # measured right after w1, in the same mount
                    self.fuse_step(cl, wl, run_idx)
        return self.report()

    def cleanup(self):
        for cl in getattr(self, "clients_obj", {}).values():
            try:
                cl.unmount()
            except Exception as e:
                log(f"cleanup {cl.name}: {e}")

    # -- report
    def needed(self):
        s = self.data.s
        return {"w1": s["big"], "w2": s["big"], "w3": s["nfiles"] * s["filesize"], "w4": W4_IOS * 4096,
                "w5": 0, "w6": 1, "w7": s["fanin"], "w8": s["big"]}

    def cell(self, col, wl):
        runs = self.results.get((col, wl))
        if not runs:
            return None, "—"
        if any(r["status"] == "FAILED" for r in runs):
            return None, "FAILED"
        vals = [r["value"] for r in runs if r["status"] == "ok" and r.get("value") is not None]
        if not vals:
            return None, "/".join(sorted({r["status"] for r in runs}))
        m = median(vals)
        txt = fmt(m, WL[wl][1])
        if len(vals) < len(runs):
            txt += f" ({len(vals)}/{len(runs)} ok)"
        return m, txt

    def report(self):
        d = self.data
        cols = self.clients + ["raw-1", "raw-N"]
        now = self.started
        L = []
        trial = os.environ.get("BENCH_TRIAL") == "1"
        title = f"# s3mount benchmark — {self.server}, scale {self.scale}, {now:%Y-%m-%d %H:%M}"
        L.append(title + (" — SMALL-SCALE TRIAL (harness check, not a result)" if trial else ""))
        L.append("")
        if trial:
            L.append("> **Trial run** at reduced size to prove the harness end to end, on a shared, noisy machine "
                     "(builds running), while s3mount's read pipeline is being rebuilt. Do not quote these numbers.")
            L.append("")
        s = d.s
        L.append(f"Data (bucket `{self.cfg['bucket']}`, prefix `{d.prefix}/`): big object {s['big'] // MiB} MiB; "
                 f"{s['nfiles']} files × {s['filesize'] // 1024} KiB; directory of {s['nlist']} keys (1 KiB each); "
                 f"fan-in file {s['fanin'] // MiB} MiB. Random (incompressible) content, sha256 of every object recorded.")
        L.append(f"Every cell is the **median of {self.runs} runs**; each run of a FUSE client is a fresh mount after "
                 "`echo 3 > /proc/sys/vm/drop_caches` (workload 8: same mount right after workload 1, nothing dropped). "
                 "MB = 10^6 bytes. ↑ higher is better, ↓ lower is better. `s3mount/raw` and `s3mount/peer` are "
                 "s3mount's median divided by the best raw baseline / best peer (s3fs, rclone) of that row.")
        L.append("")
        head = ["workload", "unit"] + cols + ["s3mount/raw", "s3mount/peer"]
        L.append("| " + " | ".join(head) + " |")
        L.append("|" + "---|" * len(head))
        peers = [c for c in self.clients if c != "s3mount"]
        for wl in self.workloads:
            name, unit, up = WL[wl]
            vals = {c: self.cell(c, wl) for c in cols}
            row = [name, unit + (" ↑" if up else " ↓")] + [vals[c][1] for c in cols]
            best = max if up else min
            sm = vals.get("s3mount", (None, ""))[0]
            rawv = [vals[c][0] for c in ("raw-1", "raw-N") if vals[c][0]]
            peerv = [vals[c][0] for c in peers if vals[c][0]]
            row.append(f"{sm / best(rawv):.2f}" if sm and rawv else "—")
            row.append(f"{sm / best(peerv):.2f}" if sm and peerv else "—")
            L.append("| " + " | ".join(row) + " |")
        L.append("")
        L.append("Raw columns: **raw-1** = one connection: w1 `curl` of the whole object; w4 "
                 f"{W4_IOS} random 4 KiB ranged GETs in one curl process over one kept-alive connection; w5 boto3 "
                 "ListObjectsV2 paginated; w6 one `curl -r 0-0` (new connection); w7 one `curl` GET of the file (checks "
                 f"the witness reads ≈1.00). **raw-N** = parallel: w1 {W1_RAW_STREAMS} parallel ranged GETs covering the "
                 f"object; w2 {W2_READERS} parallel ranged GETs (the readers' quarters); w3 {W3_READERS} parallel GETs of "
                 "the files (curl --parallel, keep-alive).")
        L.append("")
        # resources
        L.append("## FUSE daemon CPU seconds and peak RSS (median of runs)")
        L.append("")
        L.append("CPU = utime+stime of the daemon during the measured step (/proc/PID/stat); peak RSS = VmHWM at the end "
                 "of the step, i.e. peak since that mount (for w8 it includes w1 in the same mount).")
        L.append("")
        L.append("| workload | " + " | ".join(self.clients) + " |")
        L.append("|---|" + "---|" * len(self.clients))
        for wl in self.workloads:
            row = [WL[wl][0]]
            for c in self.clients:
                runs = [r for r in self.results.get((c, wl), []) if "cpu" in r]
                if not runs:
                    row.append("—")
                    continue
                row.append(f"{median([r['cpu'] for r in runs]):.2f} s / {median([r['rss_kib'] for r in runs]) / 1024:.0f} MiB")
            L.append("| " + " | ".join(row) + " |")
        L.append("")
        L.append("## Bytes fetched from S3 per step (server witness), median of runs, MiB")
        L.append("")
        L.append("GET bytes the server sent between just before and just after the measured step (w7: until 2 s after). "
                 "What the step itself needs: " + ", ".join(f"{w} {n / MiB:.1f}" for w, n in self.needed().items())
                 + " MiB. More means read amplification (prefetch, whole-chunk downloads); less means a cache served it.")
        L.append("")
        L.append("| workload | " + " | ".join(self.clients) + " |")
        L.append("|---|" + "---|" * len(self.clients))
        for wl in self.workloads:
            row = [WL[wl][0]]
            for c in self.clients:
                bs = [r["s3_bytes"] for r in self.results.get((c, wl), []) if "s3_bytes" in r]
                row.append(f"{median(bs) / MiB:.1f}" if bs else "—")
            L.append("| " + " | ".join(row) + " |")
        L.append("")
        # verification and notes
        L.append("## Checks and notes")
        L.append("")
        L.append("- Data checks: w1 — sha256 of the big object read through the same mount right after the timed "
                 "read (and w8); w3 — every file's bytes from the timed read hashed after the clock stops; w7 — every "
                 f"one of the {W7_READERS} readers hashes what it read; w5 — `ls -l` must list every key; w6 — the byte "
                 "must equal the object's first byte. A mismatch makes the cell FAILED.")
        L.append(f"- w7 witness: {self.witness.desc or 'none available'}; the counter is read before and 2 s after "
                 "the readers finish. Other traffic to the same gateway during the step would be counted too.")
        L.append("- Known biases: (1) the machine is shared; the server, the FUSE daemon, fio and the readers all run on "
                 f"the same {os.cpu_count()} cores, so a client that spends more CPU also slows the server; the load "
                 "average is printed below. (2) The witness counts what the gateway streamed for each GET; a client that "
                 "asks for a long range and closes the connection early is charged for what the gateway had sent or "
                 "buffered, which can be more than the client received (rclone's 128 MiB+ read chunks). (3) Every client "
                 "runs with its own defaults for kernel readahead, FUSE max_read, attribute/entry timeouts and "
                 "direct_io/keep_cache; nothing is tuned per client except s3fs-tuned's options. (4) Raw baselines do "
                 "no FUSE and no page cache, and curl reuses connections within one process; w6 raw includes a TCP "
                 "connect like a fresh mount's first request, w4 raw has one connection kept alive. (5) fio's bandwidth "
                 "excludes file open; raw rates use curl's own transfer time. (6) The server's cache is warmed once "
                 "(every object read) before the runs, so no client is the first to touch an object on the server; "
                 "`drop_caches` also empties the page cache the OSD does not use (bluestore reads with O_DIRECT). "
                 "raw w5 is boto3, so it includes Python's SigV4 signing and XML parsing (curl's SigV4 does not sign query "
                 "strings the way the server checks them). (7) w4 uses O_DIRECT where the client accepts it (noted per run), which hides the kernel page cache "
                 "but not the client's own cache: a client that downloads big chunks shows high reads/s and a large "
                 "byte count in the witness table. (8) Clients are measured in turn within each run (raw, then the "
                 "clients in order), runs repeat the whole round, so slow drift of the machine's load spreads over all."
                 + (" (9) JuiceFS: the witness is what the gateway read from its block store (4 MiB blocks, no "
                    "cache), so a ranged GET is charged for the whole blocks it touches; a client issuing many "
                    "smaller ranges reads above 1.00 even without duplicate fetches — compare clients with each "
                    "other, not with 1.00." if self.server == "juicefs" else ""))
        notes = []
        modes = {}
        for (col, wl), runs in self.results.items():
            if wl == "w4" and col in self.clients:
                modes[col] = "/".join(sorted({r.get("note", "?").split(" ")[0] for r in runs if r.get("note")}))
        if modes:
            L.append("- w4 I/O mode: " + ", ".join(f"{c} {m}" for c, m in modes.items())
                     + " (O_DIRECT if the client accepts it, else buffered reads after drop_caches).")
        for (col, wl), runs in sorted(self.results.items()):
            for i, r in enumerate(runs):
                if wl == "w4" and r["status"] == "ok" and col in self.clients:
                    continue
                if r.get("note") or r["status"] != "ok":
                    notes.append(f"  - {col} {wl} run {i + 1}: {r['status']} {r.get('note', '')}".rstrip())
        if notes:
            L.append("- Per-run notes:")
            L += sorted(set(notes), key=notes.index)
        L.append("")
        L.append("## All runs")
        L.append("")
        L.append("| column | workload | runs |")
        L.append("|---|---|---|")
        for (col, wl), runs in self.results.items():
            L.append(f"| {col} | {wl} | " + ", ".join(
                (fmt(r["value"], WL[wl][1]) if r.get("value") is not None else "") + ("" if r["status"] == "ok" else f" {r['status']}")
                for r in runs) + " |")
        L.append("")
        L.append("## Machine and versions")
        L.append("")
        L += [f"- {k}: {v}" for k, v in machine_info(self.server).items()]
        L.append("")
        L.append("## Exact commands")
        L.append("")
        L.append("```")
        L.append(f"# harness: BENCH_SERVER={self.server} BENCH_SCALE={self.scale} BENCH_RUNS={self.runs} make bench")
        self.commands.update({
            "w3": f"{W3_READERS} Python threads: open, readinto(memory touched before the clock) to EOF, close, for each of MNT/<scale>/files/* "
                  "(bench.py worker files); files / wall seconds",
            "w5": "ls -l MNT/<scale>/list  (wall seconds, subprocess)",
            "w6": "os.open + os.read(fd, 1) of MNT/<scale>/files/fNNNNN.bin not read before (bench.py worker ttfb)",
            "w7": f"{W7_READERS} Python threads wait on a barrier, then read MNT/<scale>/fanin.bin in 1 MiB reads "
                  "to EOF, hashing (bench.py worker fanin); witness read before and 2 s after",
        })
        for k, v in self.commands.items():
            L.append(f"# {k}\n{v}")
        L.append("```")
        text = "\n".join(L) + "\n"
        name = f"{self.server}-{now:%Y-%m-%d}" + ("" if self.scale == "full" else f"-{self.scale}")
        out = RESULTS / f"{name}.md"
        out.write_text(text)
        (RESULTS / f"{name}.raw.json").write_text(json.dumps(
            {f"{c}|{w}": r for (c, w), r in self.results.items()}, indent=1))
        print(text)
        log(f"report: {out}")
        return out


def fmt(v, unit):
    if unit == "x":
        return f"{v:.2f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}" if v >= 1 else f"{v:.3f}"


def first_line(cmd):
    try:
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
        return (r.stdout.strip().splitlines() or ["?"])[0]
    except (OSError, subprocess.TimeoutExpired):
        return "not found"


def machine_info(server):
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
    info = {
        "machine": f"{os.cpu_count()} CPUs (nproc), {cpu}, {int(mem) // 1024 // 1024} GiB RAM, kernel {platform.release()}",
        "load at report time": " ".join(Path("/proc/loadavg").read_text().split()[:3]),
        "s3mount": first_line([os.environ.get("S3MOUNT_BIN", "s3mount"), "--version"]) + ", git "
        + first_line(["git", "-C", str(REPO), "describe", "--always", "--dirty"])
        + " (-dirty: built from a work tree with uncommitted changes)",
        "s3fs": first_line(["s3fs", "--version"]),
        "rclone": first_line(["rclone", "version"]),
        "fio": first_line(["fio", "--version"]),
        "curl": first_line(["curl", "--version"]),
        "python/boto3": f"{platform.python_version()} / " + first_line([sys.executable, "-c", "import boto3; print(boto3.__version__)"]),
    }
    if server == "ceph":
        info["server"] = first_line(["radosgw", "--version"]) + " (radosgw, beast frontend) at " + os.environ["AWS_ENDPOINT_URL"]
    else:
        info["server"] = first_line([os.environ.get("BENCH_JFS_BIN", "juicefs"), "version"]) + " gateway at " + os.environ["AWS_ENDPOINT_URL"]
    return info


def load_raw(bench, path, key_fields):
    """A run's raw values (RAW.json) back into a suite object for `report RAW.json`: its results, keyed by tuples of
    `key_fields` fields, and the run's start, mount commands and witness."""
    raw = json.loads(Path(path).read_text())
    bench.meta = raw.pop("_meta", {})
    for k, runs in raw.items():
        bench.results[tuple(k.split("|", key_fields - 1))] = runs
    if bench.meta.get("started"):
        bench.started = datetime.datetime.fromisoformat(bench.meta["started"])
    bench.commands = bench.meta.get("commands") or {}
    bench.witness.desc = bench.meta.get("wit_desc")


def run_to_the_end(bench):
    """Runs a suite (bench.py's or another script's), its cleanup (unmounts, stopping what it started) whatever
    happens: SIGTERM and SIGINT end the run as an exception does."""
    def on_signal(sig, frame):
        raise KeyboardInterrupt(f"signal {sig}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        bench.run()
    finally:
        bench.cleanup()


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "worker":
        worker_main(sys.argv[2], sys.argv[3])
        return
    run_to_the_end(Bench())


if __name__ == "__main__":
    main()
