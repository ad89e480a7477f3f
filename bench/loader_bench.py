#!/usr/bin/env python3
"""s3mount data-loader benchmark (issue 10, "Epoch 1 at the wire"): a training-style loader (W worker processes,
batches of B samples, a consumer that takes the batches in order and records how long it waited for each) over
three data sets — many ~100 KiB files in class folders (read shuffled, and in listing order), shards of 64 MiB
read by the workers in 1 MiB reads, one big file of 64 KiB records read in a random permutation — through
local disk (the ceiling), raw parallel GETs of the same objects (the wire, curl), s3mount (defaults), s3mount with
--read-only (a dataset mount: the kernel sends it no opens), s3mount with
--prefetch-manifest (the job's read order as a hint; small-file sets only), s3fs (tuned) and rclone mount
(--vfs-cache-mode full).  Python standard library only in the loader (multiprocessing).

Started by `BENCH_SUITE=loader bench/run.sh` (or `make bench-loader`), which installs tools, builds s3mount,
starts the server and unmounts everything on exit; it reuses bench.py's client, mount, pid, CPU/RSS and
witness bookkeeping.  Settings from the environment:

  AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY             the server (one endpoint)
  BENCH_BUCKET (s3mount-bench: data under loader-<scale>/)  BENCH_SERVER (ceph|juicefs)  BENCH_SCALE (full|small)
  BENCH_RUNS (3)  S3MOUNT_BIN  BENCH_STEP_TIMEOUT (s, per epoch)  BENCH_S3MOUNT_OPTS  BENCH_S3FS_TUNED_OPTS
  BENCH_LOADER_CLIENTS  (s3mount,s3mount-ro,s3mount-manifest,s3fs-tuned,rclone-full)
  BENCH_LOADER_SETS (shuffled,listing,shards,records)
  BENCH_LOADER_WORKERS (8)  BENCH_LOADER_BATCH (32)  BENCH_LOADER_PREFETCH (2 batches ahead per worker)
  BENCH_LOADER_RAW_PARALLEL (16)
  BENCH_LOADER_PACE (0.8: the paced pass's consumer takes one batch per B×sample / (PACE × raw rate); 0 = no
                     paced pass)   BENCH_LOADER_PACED_BATCHES (64: batches in the paced pass)
  BENCH_S3MOUNT_COMMIT (the commit the binary was built from, if the builder says)   BENCH_TRIAL=1   BENCH_TAG

`loader_bench.py worker KIND` (arguments as JSON on stdin) is the measuring side of one step, run as a
subprocess so every step is time-bounded and killable; it prints one JSON line.
`loader_bench.py report RAW.json` renders the report again from a run's raw values.
"""
import datetime
import hashlib
import json
import multiprocessing as mp
import os
import random
import re
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.dont_write_bytecode = True   # no bench/__pycache__ in the work tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as B  # noqa: E402  (shared: Client, mount bookkeeping, pids, proc_stat, Witness, gen_chunks, Raw)
import write_bench as WB  # noqa: E402  (shared: binary_info, fmt)

KiB, MiB = 1 << 10, B.MiB
WORK, LOGS, RESULTS, MNT_ROOT, PIDS_DIR = B.WORK, B.LOGS, B.RESULTS, B.MNT_ROOT, B.PIDS_DIR
LOCAL_ROOT = WORK / "loader-local"       # the local-disk copy (same relative keys), kept between runs

LSCALES = {
    "full": dict(nfiles=6000, nclasses=16, fmin=80 * KiB, fmax=120 * KiB, nshards=16, shard=64 * MiB,
                 records=512 * MiB),
    "small": dict(nfiles=1000, nclasses=16, fmin=80 * KiB, fmax=120 * KiB, nshards=8, shard=64 * MiB,
                  records=64 * MiB),
}
RECORD, SHARD_READ = 64 * KiB, 1 * MiB
ALL_LCLIENTS = ["s3mount", "s3mount-ro", "s3mount-manifest", "s3fs-tuned", "rclone-full"]
READ_ONLY = "s3mount-ro"                    # s3mount + --read-only: every data set
MANIFEST = "s3mount-manifest"              # s3mount + --prefetch-manifest: run on the small-file sets only
MANIFEST_SETS = ("shuffled", "listing")
ALL_SETS = ["shuffled", "listing", "shards", "records"]
SET_NAME = {
    "shuffled": "small files, shuffled",
    "listing": "small files, listing order",
    "shards": "shards, sequential 1 MiB reads",
    "records": "64 KiB records, random permutation",
}
SEED = 20261130


def log(*a):
    B.log(*a)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def pct(xs, p):
    """p-th percentile (linear interpolation between closest ranks); None for an empty list"""
    if not xs:
        return None
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


fmt = WB.fmt


# ----------------------------------------------------------------------------------------------------
# the data sets: keys, sizes, content (a function of the key: bench.py's gen_chunks), per-sample crc32
class LoaderData:
    def __init__(self, scale, server):
        s = LSCALES[scale]
        self.scale, self.s = scale, s
        self.prefix = f"loader-{scale}"
        n, nc = s["nfiles"], s["nclasses"]
        self.files = [f"{self.prefix}/files/c{i * nc // n:02d}/f{i:05d}.bin" for i in range(n)]
        self.files_dir = f"{self.prefix}/files"
        self.shards = [f"{self.prefix}/shards/shard-{j:04d}.bin" for j in range(s["nshards"])]
        self.records = f"{self.prefix}/records.bin"
        self.sizes = {k: random.Random(f"size#{k}").randrange(s["fmin"], s["fmax"] + 1) for k in self.files}
        self.sizes.update({k: s["shard"] for k in self.shards})
        self.sizes[self.records] = s["records"]
        self.manifest_path = WORK / f"manifest-{server}-loader-{scale}.json"
        self.manifest = {}

    def unit(self, key):
        """the piece a crc32 is recorded for: a whole small file, a 1 MiB shard read, a 64 KiB record"""
        if key in self.shards:
            return SHARD_READ
        if key == self.records:
            return RECORD
        return self.sizes[key]

    def describe(self, key, size):
        """(sha256, [crc32 of each unit]) of the key's content; writes the local copy on the way"""
        h, crcs, unit = hashlib.sha256(), [], self.unit(key)
        lp = LOCAL_ROOT / key
        lp.parent.mkdir(parents=True, exist_ok=True)
        body = []
        with open(lp, "wb") as f:
            for chunk in B.gen_chunks(key, size):
                h.update(chunk)
                f.write(chunk)
                for off in range(0, len(chunk), unit):
                    crcs.append(zlib.crc32(chunk[off:off + unit]))
                body.append(chunk)
        return h.hexdigest(), crcs, body

    def ensure(self, s3, bucket):
        """upload what is missing (boto3), keep the sha256 + crc32 manifest and the local-disk copy in step"""
        if self.manifest_path.exists():
            self.manifest = json.loads(self.manifest_path.read_text())
        present = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=self.prefix + "/"):
            for o in page.get("Contents", []):
                present[o["Key"]] = o["Size"]

        def local_ok(k):
            p = LOCAL_ROOT / k
            m = self.manifest.get(k, {})
            return p.exists() and p.stat().st_size == self.sizes[k] and m.get("local_mtime") == p.stat().st_mtime

        todo = [k for k, sz in self.sizes.items()
                if present.get(k) != sz or self.manifest.get(k, {}).get("size") != sz or not local_ok(k)]
        log(f"data: {len(self.sizes)} objects under s3://{bucket}/{self.prefix}/ (and {LOCAL_ROOT}), "
            f"{len(todo)} to write")
        lock = threading.Lock()

        def put(key):
            size = self.sizes[key]
            sha, crcs, body = self.describe(key, size)
            if present.get(key) != size or self.manifest.get(key, {}).get("sha256") != sha:
                if size > 64 * MiB:
                    up = s3.create_multipart_upload(Bucket=bucket, Key=key)
                    parts = []
                    for n, chunk in enumerate(body, 1):
                        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n, Body=chunk)
                        parts.append({"PartNumber": n, "ETag": r["ETag"]})
                    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                                 MultipartUpload={"Parts": parts})
                else:
                    s3.put_object(Bucket=bucket, Key=key, Body=b"".join(body))
            with lock:
                self.manifest[key] = {"size": size, "sha256": sha, "crc32": crcs,
                                      "local_mtime": (LOCAL_ROOT / key).stat().st_mtime}

        big = [k for k in todo if self.sizes[k] > 64 * MiB]
        mid = [k for k in todo if MiB < self.sizes[k] <= 64 * MiB]
        small = [k for k in todo if self.sizes[k] <= MiB]
        for k in big:
            put(k)
        with ThreadPoolExecutor(4) as ex:
            list(ex.map(put, mid))
        with ThreadPoolExecutor(32) as ex:
            list(ex.map(put, small))
        if todo:
            self.manifest_path.write_text(json.dumps(self.manifest))
        present = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=self.prefix + "/"):
            for o in page.get("Contents", []):
                present[o["Key"]] = o["Size"]
        bad = [k for k, sz in self.sizes.items() if present.get(k) != sz]
        if bad:
            raise RuntimeError(f"{len(bad)} objects missing or of the wrong size after upload, e.g. {bad[:3]}")

    # -- the epochs' sample orders: lists of batches of samples (path index, offset, length; -1 = whole file)
    def plan(self, dset, epoch, nworkers, batch):
        """-> dict(paths, batches=[[(pi, off, len)]], owner=[worker of each batch], expect=[[(len, crc)]])"""
        if dset in ("shuffled", "listing"):
            order = list(range(len(self.files)))      # listing order: class folder, then name (sorted keys)
            if dset == "shuffled":
                random.Random(SEED + epoch).shuffle(order)
            batches = [[(i, 0, -1) for i in order[j:j + batch]] for j in range(0, len(order), batch)]
            owner = [b % nworkers for b in range(len(batches))]
            exp = [[(self.sizes[self.files[i]], self.manifest[self.files[i]]["crc32"][0]) for i, _, _ in b]
                   for b in batches]
            return dict(paths=self.files, batches=batches, owner=owner, expect=exp)
        if dset == "records":
            n = self.s["records"] // RECORD
            order = list(range(n))
            random.Random(SEED + 1000 + epoch).shuffle(order)
            crcs = self.manifest[self.records]["crc32"]
            batches = [[(0, i * RECORD, RECORD) for i in order[j:j + batch]] for j in range(0, n, batch)]
            owner = [b % nworkers for b in range(len(batches))]
            exp = [[(RECORD, crcs[off // RECORD]) for _, off, _ in b] for b in batches]
            return dict(paths=[self.records], batches=batches, owner=owner, expect=exp)
        if dset == "shards":
            # an iterable-style data set: worker k reads shards k, k+W, ... sequentially in 1 MiB reads and makes
            # its own batches of B consecutive reads; the consumer takes batches round-robin over the workers
            per = []
            for k in range(nworkers):
                stream = [(j, off, SHARD_READ) for j in range(k, len(self.shards), nworkers)
                          for off in range(0, self.s["shard"], SHARD_READ)]
                per.append([stream[i:i + batch] for i in range(0, len(stream), batch)])
            batches, owner = [], []
            for r in range(max(len(p) for p in per)):
                for k in range(nworkers):
                    if r < len(per[k]):
                        batches.append(per[k][r])
                        owner.append(k)
            exp = [[(ln, self.manifest[self.shards[pi]]["crc32"][off // SHARD_READ]) for pi, off, ln in b]
                   for b in batches]
            return dict(paths=self.shards, batches=batches, owner=owner, expect=exp)
        raise ValueError(dset)

    @staticmethod
    def read_order(plan):
        """the paths in the order a plan reads them: its batches in batch order, each batch's samples in order"""
        return [plan["paths"][pi] for b in plan["batches"] for pi, _, _ in b]

    def set_bytes(self, dset):
        if dset in ("shuffled", "listing"):
            return sum(self.sizes[k] for k in self.files)
        if dset == "shards":
            return len(self.shards) * self.s["shard"]
        return self.s["records"]

    def set_samples(self, dset):
        if dset in ("shuffled", "listing"):
            return len(self.files)
        if dset == "shards":
            return len(self.shards) * self.s["shard"] // SHARD_READ
        return self.s["records"] // RECORD


# ----------------------------------------------------------------------------------------------------
# the loader (worker side: a subprocess per epoch, its workers forked from it)
def _load_worker(k, root, paths, batches, my, sem, q, start):
    """worker k: for each of its batches (in order) wait for a prefetch slot, load every sample, hand back
    (length, crc32) per sample.  Whole files: open + read to EOF + close; ranges: os.pread on a fd of its own
    (kept open while the path stays the same)."""
    try:
        start.wait()
        fd, fpath = None, None
        for b in my:
            sem.acquire()
            out = []
            t0 = time.perf_counter()
            for pi, off, ln in batches[b]:
                p = os.path.join(root, paths[pi])
                if ln < 0:
                    with open(p, "rb", buffering=0) as f:
                        data = f.readall()
                else:
                    if fpath != p:
                        if fd is not None:
                            os.close(fd)
                        fd, fpath = os.open(p, os.O_RDONLY), p
                    data = os.pread(fd, ln, off)
                out.append((len(data), zlib.crc32(data)))
            q.put((b, out, t0, time.perf_counter(), None))
        if fd is not None:
            os.close(fd)
    except BaseException as e:  # reported to the consumer, which fails the epoch
        q.put((-1, None, 0, 0, f"worker {k}: {type(e).__name__}: {e}"))


def w_loader(a):
    """One epoch.  The sampler's batches go to their owners (files, records: batch i to worker i % W); each worker
    keeps at most `prefetch` batches loaded-or-loading that the consumer has not taken (torch's prefetch_factor);
    the consumer takes the batches in order, records the wait for each (the stall), optionally sleeps `pace_s`
    per batch (a simulated training step), releases the worker's slot.  Bytes are checked after the clock."""
    root, paths, batches, owner = a["root"], a["paths"], a["batches"], a["owner"]
    nb = min(len(batches), a.get("max_batches") or len(batches))
    batches, owner = batches[:nb], owner[:nb]
    W, pace = a["workers"], a.get("pace_s") or 0.0
    out = {}
    if a.get("walk"):
        # the data set's index, like torchvision's ImageFolder: walk the class folders, sorted (readdir only)
        t = time.perf_counter()
        found = []
        top = os.path.join(root, a["walk"])
        for c in sorted(os.listdir(top)):
            with os.scandir(os.path.join(top, c)) as it:
                names = sorted(e.name for e in it if e.is_file())
            found += [f"{a['walk']}/{c}/{n}" for n in names]
        out["index_s"] = time.perf_counter() - t
        if found != paths:
            return {"error": f"listing of {a['walk']} gave {len(found)} files, expected {len(paths)}"
                             + (" (same count, other names/order)" if len(found) == len(paths) else "")}
    ctx = mp.get_context("fork")
    sems = [ctx.Semaphore(a["prefetch"]) for _ in range(W)]
    qs = [ctx.Queue() for _ in range(W)]
    start = ctx.Event()
    mine = [[b for b in range(nb) if owner[b] == k] for k in range(W)]
    procs = [ctx.Process(target=_load_worker, args=(k, root, paths, batches, mine[k], sems[k], qs[k], start),
                         daemon=True) for k in range(W)]
    for p in procs:
        p.start()
    time.sleep(0.2)   # let the forks settle: worker start-up is not part of the epoch
    stalls, takes, got = [], [], [None] * nb
    t_start = time.perf_counter()
    out["clock_wall"] = time.time()   # when the clock started (the manifest column's head start ends here)
    start.set()
    err = None
    for i in range(nb):
        k = owner[i]
        t0 = time.perf_counter()
        b, res, tl0, tl1, e = qs[k].get()
        t1 = time.perf_counter()
        if e:
            err = e
            break
        if b != i:
            err = f"batch {b} arrived where {i} was due"
            break
        sems[k].release()
        stalls.append(t1 - t0)
        takes.append(t1)
        got[i] = res
        if pace:
            time.sleep(pace)
    t_end = time.perf_counter()
    for p in procs:
        p.join(5)
        if p.is_alive():
            p.kill()
    if err:
        return {"error": err[:400]}
    # checks, after the clock stopped
    exp = a["expect"][:nb]
    nbytes = sum(ln for r in got for ln, _ in r)
    bad = [(i, j) for i in range(nb) for j, (g, x) in enumerate(zip(got[i], exp[i])) if tuple(g) != tuple(x)]
    bad += [(i, -1) for i in range(nb) if len(got[i]) != len(exp[i])]
    intervals = [t2 - t1 for t1, t2 in zip(takes, takes[1:])]
    rest = stalls[1:]
    out.update(seconds=t_end - t_start, batches=nb, samples=sum(len(r) for r in got), bytes=nbytes,
               first_batch_s=stalls[0] if stalls else None,
               stall_p50=pct(rest, 50), stall_p90=pct(rest, 90), stall_p99=pct(rest, 99),
               stall_max=max(rest) if rest else None, stall_mean=statistics.mean(rest) if rest else None,
               stall_sum=sum(stalls), interval_p50=pct(intervals, 50), bad=len(bad))
    if bad:
        i, j = bad[0]
        out["bad_example"] = f"batch {i} sample {j}: got {got[i][j] if j >= 0 else len(got[i])}, " \
                             f"expected {exp[i][j] if j >= 0 else len(exp[i])}"
    return out


def w_curl(a):
    """raw: one curl process, --parallel; wall seconds, per-transfer bytes, curl's CPU"""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(["curl", "-K", a["cfg"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    dt = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    rows = [ln.split() for ln in r.stdout.splitlines() if ln.strip()]
    return {"rc": r.returncode, "seconds": dt, "stderr": r.stderr[-300:],
            "transfers": len(rows), "bytes": sum(int(x[0]) for x in rows if x and x[0].isdigit()),
            "codes": sorted({x[1] for x in rows if len(x) > 1}),
            "cpu": (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)}


WORKERS = {"loader": w_loader, "curl": w_curl}


def worker_main(kind):
    a = json.loads(sys.stdin.read())
    try:
        out = WORKERS[kind](a)
    except Exception as e:
        out = {"error": f"{type(e).__name__}: {e}"[:500]}
    sys.stdout.write(json.dumps(out) + "\n")


def run_worker(kind, args, timeout):
    """one measured step in a subprocess (arguments on stdin: the sample lists are too big for argv)"""
    p = subprocess.Popen([sys.executable, __file__, "worker", kind], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(json.dumps(args), timeout=timeout)
    except BaseException as e:   # the step's timeout, or we are being stopped: the worker and its forks go too
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
class VariantClient(B.Client):
    """an s3mount column that is the s3mount column's command (BENCH_S3MOUNT_OPTS included) plus options of its own,
    logging to its own file"""

    def variant_options(self):
        return []

    def command(self):
        base = B.Client("s3mount", self.cfg)
        base.mnt = self.mnt
        cmd = base.command()
        cmd[cmd.index("--log-file") + 1] = str(LOGS / f"{self.name}.log")
        return cmd + self.variant_options()


class ReadOnlyClient(VariantClient):
    """the s3mount-ro column: --read-only, the option a dataset mount gets (the kernel sends it no open, flush or
    release: docs/SEMANTICS.md)"""

    def variant_options(self):
        return ["--read-only"]


class ManifestClient(VariantClient):
    """the s3mount-manifest column: the s3mount column's command (BENCH_S3MOUNT_OPTS included) plus
    --prefetch-manifest FILE; for_plan() writes FILE (one path per line, relative to the mount root, in the order
    the plan reads them) before each mount"""

    def __init__(self, name, cfg):
        super().__init__(name, cfg)
        self.manifest = None

    def variant_options(self):
        return ["--prefetch-manifest", str(self.manifest or WORK / "loader-manifest-SET.txt")]

    def for_plan(self, dset, plan):
        self.manifest = WORK / f"loader-manifest-{dset}.txt"
        self.manifest.write_text("".join(k + "\n" for k in LoaderData.read_order(plan)))


class LBench:
    def __init__(self):
        e = os.environ
        self.server = e.get("BENCH_SERVER", "ceph")
        self.scale = e.get("BENCH_SCALE", "full")
        self.runs = int(e.get("BENCH_RUNS", "3"))
        self.clients = [c for c in e.get("BENCH_LOADER_CLIENTS", ",".join(ALL_LCLIENTS)).split(",") if c]
        self.sets = [d for d in e.get("BENCH_LOADER_SETS", ",".join(ALL_SETS)).split(",") if d]
        self.W = int(e.get("BENCH_LOADER_WORKERS", "8"))
        self.B = int(e.get("BENCH_LOADER_BATCH", "32"))
        self.prefetch = int(e.get("BENCH_LOADER_PREFETCH", "2"))
        self.rawN = int(e.get("BENCH_LOADER_RAW_PARALLEL", "16"))
        self.pace = float(e.get("BENCH_LOADER_PACE", "0.8"))
        self.paced_batches = int(e.get("BENCH_LOADER_PACED_BATCHES", "64"))
        self.step_timeout = int(e.get("BENCH_STEP_TIMEOUT", "900" if self.scale == "full" else "300"))
        self.cfg = dict(endpoint=e.get("AWS_ENDPOINT_URL", "").rstrip("/"), bucket=e.get("BENCH_BUCKET", "s3mount-bench"),
                        ak=e.get("AWS_ACCESS_KEY_ID", ""), sk=e.get("AWS_SECRET_ACCESS_KEY", ""),
                        s3mount_bin=e.get("S3MOUNT_BIN", "s3mount"),
                        s3fs_passwd=str(WORK / "s3fs.passwd"), rclone_conf=str(WORK / "rclone.conf"),
                        s3fs_tuned="parallel_count=16,multipart_size=16,max_background=64,multireq_max=64,"
                                   "max_stat_cache_size=100000,enable_noobj_cache")
        self.data = LoaderData(self.scale, self.server)
        self.witness = B.Witness(self.server, self.cfg["endpoint"])
        self.raw = B.Raw(self.cfg)
        self.results = {}     # (column, set, epoch) -> [run dict];  epoch: "e1", "e2", "paced"
        self.commands = {}
        self.meta = {}
        self.started = datetime.datetime.now()

    # -- setup
    def setup(self):
        for d in (WORK, MNT_ROOT, PIDS_DIR, LOGS, RESULTS, LOCAL_ROOT):
            d.mkdir(parents=True, exist_ok=True)
        pw = Path(self.cfg["s3fs_passwd"])
        pw.write_text(f"{self.cfg['ak']}:{self.cfg['sk']}\n")
        pw.chmod(0o600)
        Path(self.cfg["rclone_conf"]).write_text(
            "[bench]\ntype = s3\nprovider = Other\nenv_auth = false\n"
            f"access_key_id = {self.cfg['ak']}\nsecret_access_key = {self.cfg['sk']}\n"
            f"endpoint = {self.cfg['endpoint']}\nregion = us-east-1\nforce_path_style = true\n")
        self.s3 = WB.s3_client(self.cfg, pool=40)
        try:
            self.s3.head_bucket(Bucket=self.cfg["bucket"])
        except Exception:
            self.s3.create_bucket(Bucket=self.cfg["bucket"])
        self.data.ensure(self.s3, self.cfg["bucket"])
        kinds = {MANIFEST: ManifestClient, READ_ONLY: ReadOnlyClient}
        self.clients_obj = {c: kinds.get(c, B.Client)(c, self.cfg) for c in self.clients}
        for c in self.clients_obj.values():
            self.commands[f"mount {c.name}"] = shlex.join(c.command())
        self.cfg["s3mount_help"] = WB.s3mount_help(self.cfg["s3mount_bin"])
        self.meta["s3mount_help_memory"] = WB.WBench.help_line(self, "--memory-limit")
        self.warmup()

    def warmup(self):
        """every object read once from the server and checked (sha256), so the server's caches are equally warm
        for every column and its copy is known to be right"""
        log("warm-up: reading every loader object once from the server (and checking sha256)")
        d = self.data
        B.read_and_check(self.s3, self.cfg["bucket"], list(d.sizes), lambda k: d.manifest[k]["sha256"])

    def counters(self):
        """(GET bytes, requests) the gateway has served so far: Ceph — radosgw's perf counters rgw.get_b and rgw.req
        (every request: GET, HEAD, LIST, …) over its admin socket; JuiceFS — GET bytes only"""
        w = self.witness
        if self.server == "ceph":
            if not w.asok or not os.path.exists(w.asok):
                w.get_bytes()   # finds the admin socket, sets witness.desc
            if w.asok:
                try:
                    r = B.sh(["ceph", "--admin-daemon", w.asok, "perf", "dump", "rgw"], timeout=15)
                    c = json.loads(r.stdout)["rgw"]
                    return int(c["get_b"]), int(c["req"])
                except (subprocess.TimeoutExpired, ValueError, KeyError):
                    pass
        return w.get_bytes(), None

    def count_into(self, res, c0, c1):
        if c0[0] is not None and c1[0] is not None:
            res["s3_bytes"] = c1[0] - c0[0]
        if c0[1] is not None and c1[1] is not None:
            res["s3_reqs"] = c1[1] - c0[1]

    # -- bookkeeping
    def record(self, col, dset, ep, run):
        self.results.setdefault((col, dset, ep), []).append(run)
        keys = ("samples_s", "mb_s", "stall_p50_ms", "stall_p99_ms", "cpu_per_gb")
        log(f"  {col:12s} {dset:9s} {ep:5s} run {len(self.results[(col, dset, ep)])}: {run.get('status')} "
            + " ".join(f"{k}={run[k]:.4g}" for k in keys if isinstance(run.get(k), (int, float)))
            + (f" rss {run['rss_kib'] // 1024} MiB" if run.get("rss_kib") else "")
            + (f"  ({run['note']})" if run.get("note") else ""))

    def loader_args(self, root, dset, ep, pace_s=None, max_batches=None, walk=False):
        epoch = 1 if ep in ("e1", "paced") else 2
        p = self.data.plan(dset, epoch, self.W, self.B)
        a = dict(root=str(root), paths=p["paths"], batches=p["batches"], owner=p["owner"], expect=p["expect"],
                 workers=self.W, prefetch=self.prefetch, pace_s=pace_s, max_batches=max_batches)
        if walk and dset in ("shuffled", "listing"):
            a["walk"] = self.data.files_dir
        return a

    def from_loader(self, r):
        if r.get("timeout"):
            return {"status": "TIMEOUT"}
        if "error" in r:
            return {"status": "ERROR", "note": r["error"][:300]}
        res = {"status": "ok" if r["bad"] == 0 else "FAILED"}
        for k in ("seconds", "batches", "samples", "bytes", "index_s"):
            if k in r:
                res[k] = r[k]
        res["samples_s"] = r["samples"] / r["seconds"]
        res["mb_s"] = r["bytes"] / r["seconds"] / 1e6
        for k in ("first_batch_s", "stall_p50", "stall_p90", "stall_p99", "stall_max", "stall_mean", "interval_p50"):
            if r.get(k) is not None:
                res["first_batch_ms" if k == "first_batch_s" else k + "_ms"] = r[k] * 1000
        if r["bad"]:
            res["note"] = f"{r['bad']} samples with wrong bytes, e.g. {r.get('bad_example')}"
        return res

    def epoch(self, cl, root, dset, ep, since=None, **kw):
        """one loader epoch, with the daemon's CPU/RSS and the server's GET bytes around it (FUSE clients);
        since: (wall time, counters) before the mount — the head start of a client that fetches from the moment it
        mounts (seconds from the mount command to the epoch's clock, GET bytes before the index walk) becomes a note"""
        n0 = self.counters() if cl else (None, None)
        c0 = cl.stat()[0] if cl else None
        r = run_worker("loader", self.loader_args(root, dset, ep, **kw), self.step_timeout)
        res = self.from_loader(r)
        if cl is not None:
            c1, hwm = cl.stat()
            res.update(cpu=c1 - c0, rss_kib=hwm)
            if res.get("bytes"):
                res["cpu_per_gb"] = res["cpu"] / (res["bytes"] / 1e9)
            if not cl.pids:
                res["note"] = (res.get("note", "") + " daemon pid not found").strip()
        self.count_into(res, n0, self.counters() if cl else (None, None))
        if since is not None and r.get("clock_wall"):
            res["head_start_s"] = r["clock_wall"] - since[0]
            head = f"head start {res['head_start_s']:.1f} s from the mount command to the epoch's clock"
            if since[1][0] is not None and n0[0] is not None:
                res["head_start_b"] = n0[0] - since[1][0]
                head += f", {res['head_start_b'] / MiB:.1f} MiB fetched before the index walk"
            res["note"] = (res.get("note", "") + " " + head).strip()
        return res

    # -- local disk: the ceiling (page cache dropped before epoch 1, epoch 2 right after)
    def local_steps(self):
        for dset in self.sets:
            B.drop_caches()
            self.record("local", dset, "e1", self.epoch(None, LOCAL_ROOT, dset, "e1", walk=True))
            self.record("local", dset, "e2", self.epoch(None, LOCAL_ROOT, dset, "e2"))

    # -- a FUSE client: fresh mount after drop_caches, epoch 1, epoch 2 in the same mount; then the paced pass
    def sets_of(self, cl):
        return [d for d in self.sets if cl.name != MANIFEST or d in MANIFEST_SETS]

    def mount_for(self, cl, dset):
        """mount cl for a data set: the manifest column first gets epoch 1's read order as its manifest.
        -> (wall time, counters) before the mount (manifest column: to measure its head start), else None"""
        if isinstance(cl, ManifestClient):
            cl.for_plan(dset, self.data.plan(dset, 1, self.W, self.B))
            since = (time.time(), self.counters())
            cl.mount()
            return since
        cl.mount()
        return None

    def fuse_steps(self, cl, dset, run_idx):
        try:
            since = self.mount_for(cl, dset)
        except Exception as e:
            cl.unmount()
            for ep in ("e1", "e2"):
                self.record(cl.name, dset, ep, {"status": "ERROR", "note": f"mount: {e}"[:300]})
            return
        try:
            B.drop_caches()
            r1 = self.epoch(cl, cl.mnt, dset, "e1", since=since, walk=True)
            self.record(cl.name, dset, "e1", r1)
            if r1["status"] in ("ok", "FAILED"):
                self.record(cl.name, dset, "e2", self.epoch(cl, cl.mnt, dset, "e2"))
            else:
                self.record(cl.name, dset, "e2", {"status": "SKIPPED", "note": f"epoch 1 {r1['status']}"})
        finally:
            cl.unmount()

    def pace_s(self, dset, run_idx):
        """the paced pass's simulated step time: one batch at PACE × this run's raw rate of the data set"""
        raw = self.results.get(("raw", dset, "e1"), [])
        r = raw[run_idx] if len(raw) > run_idx else None
        if not r or r.get("status") != "ok" or not r.get("mb_s"):
            return None
        per_batch = self.B * self.data.set_bytes(dset) / self.data.set_samples(dset)
        return per_batch / (self.pace * r["mb_s"] * 1e6)

    def paced_step(self, cl, dset, run_idx):
        T = self.pace_s(dset, run_idx)
        if T is None:
            self.record(cl.name, dset, "paced", {"status": "SKIPPED", "note": "no raw rate in this run"})
            return
        try:
            since = self.mount_for(cl, dset)
        except Exception as e:
            cl.unmount()
            self.record(cl.name, dset, "paced", {"status": "ERROR", "note": f"mount: {e}"[:300]})
            return
        try:
            B.drop_caches()
            r = self.epoch(cl, cl.mnt, dset, "paced", since=since, pace_s=T, max_batches=self.paced_batches, walk=True)
            r["pace_ms"] = T * 1000
            self.record(cl.name, dset, "paced", r)
        finally:
            cl.unmount()

    # -- raw: the wire, N parallel GETs of the same objects / ranges, in the same order (one curl process)
    def raw_cfg(self, name, items, par):
        """items: [(key, range or None)]; one block per item joined by `next` (a range is per block)"""
        raw, blocks = self.raw, []
        for i, (k, rg) in enumerate(items):
            blocks.append((f"parallel\nparallel-max = {par}\n" if i == 0 else "") + raw.auth_cfg()
                          + f'url = "{raw.url(k)}"\n' + (f'range = "{rg}"\n' if rg else "")
                          + 'output = "/dev/null"\nwrite-out = "%{size_download} %{http_code}\\n"\n')
        p = WORK / f"curl-loader-{name}.cfg"
        p.write_text("\nnext\n".join(blocks) + "\n")
        p.chmod(0o600)
        return p

    def raw_step(self, dset, name, items, par, nsamples, nbytes):
        cfgp = self.raw_cfg(name, items, par)
        self.commands.setdefault(f"raw {name}", f"curl -K {cfgp.name}   # {len(items)} blocks (url"
                                 + (", range" if items[0][1] else "") + ", SigV4 options, output /dev/null, "
                                 f"write-out size/code) joined by `next`; parallel, parallel-max {par}")
        B.drop_caches()
        n0 = self.counters()
        r = run_worker("curl", {"cfg": str(cfgp)}, self.step_timeout)
        n1 = self.counters()
        if r.get("timeout"):
            return {"status": "TIMEOUT"}
        if "error" in r:
            return {"status": "ERROR", "note": r["error"][:300]}
        res = {"status": "ok", "seconds": r["seconds"], "samples": nsamples, "bytes": r["bytes"],
               "samples_s": nsamples / r["seconds"], "mb_s": r["bytes"] / r["seconds"] / 1e6,
               "cpu": r["cpu"], "cpu_per_gb": r["cpu"] / (r["bytes"] / 1e9) if r["bytes"] else None,
               "parallel": par, "transfers": r["transfers"]}
        self.count_into(res, n0, n1)
        if r["rc"] != 0 or r["bytes"] != nbytes or r["transfers"] != len(items) or r["codes"] not in (["200"], ["206"]):
            res.update(status="ERROR", note=f"curl rc={r['rc']}, {r['transfers']} transfers, {r['bytes']} bytes "
                       f"of {nbytes}, HTTP {r['codes']} {r['stderr']}"[:300])
        return res

    def raw_steps(self, run_idx):
        d, N = self.data, self.rawN
        for dset in self.sets:
            p = d.plan(dset, 1, self.W, self.B)
            ns, nb = d.set_samples(dset), d.set_bytes(dset)
            if dset in ("shuffled", "listing"):
                items = [(k, None) for k in d.read_order(p)]
                self.record("raw", dset, "e1", self.raw_step(dset, dset, items, N, ns, nb))
            elif dset == "records":
                items = [(d.records, f"{off}-{off + RECORD - 1}") for b in p["batches"] for _, off, _ in b]
                self.record("raw", dset, "e1", self.raw_step(dset, dset, items, N, ns, nb))
            elif dset == "shards":
                # the ceiling: the better of W parallel whole-shard GETs (the loader's streams) and N parallel
                # GETs covering every shard (each shard in ceil(N / shards) ranges: 2 with 8 shards, 1 with 16)
                whole = [(k, None) for k in d.shards]
                rw = self.raw_step(dset, "shards-whole", whole, min(self.W, len(d.shards)), ns, nb)
                pieces = max(1, -(-N // len(d.shards)))
                step = d.s["shard"] // pieces
                ranged = [(k, f"{i * step}-{d.s['shard'] - 1 if i == pieces - 1 else (i + 1) * step - 1}")
                          for k in d.shards for i in range(pieces)]
                rr = self.raw_step(dset, "shards-ranged", ranged, N, ns, nb)
                self.record("raw-whole", dset, "e1", rw)
                self.record("raw-ranged", dset, "e1", rr)
                best = max((x for x in (rw, rr) if x.get("status") == "ok"), key=lambda x: x["mb_s"], default=None)
                self.record("raw", dset, "e1", dict(best, note=("whole" if best is rw else "ranged")) if best else
                            {"status": "ERROR", "note": "both raw variants failed"})

    # -- main loop
    def run(self):
        self.setup()
        for run_idx in range(self.runs):
            log(f"=== run {run_idx + 1}/{self.runs}: local disk")
            self.local_steps()
            log(f"=== run {run_idx + 1}/{self.runs}: raw ({self.rawN} parallel GETs, curl)")
            self.raw_steps(run_idx)
            for c in self.clients:
                cl = self.clients_obj[c]
                log(f"=== run {run_idx + 1}/{self.runs}: {c}")
                for dset in self.sets_of(cl):
                    self.fuse_steps(cl, dset, run_idx)
                if self.pace > 0:
                    for dset in self.sets_of(cl):
                        self.paced_step(cl, dset, run_idx)
        return self.report()

    def cleanup(self):
        for cl in getattr(self, "clients_obj", {}).values():
            try:
                cl.unmount()
            except Exception as e:
                log(f"cleanup {cl.name}: {e}")

    # -- report
    def runs_of(self, col, dset, ep):
        return self.results.get((col, dset, ep), [])

    def med(self, col, dset, ep, k):
        return median([r.get(k) for r in self.runs_of(col, dset, ep) if r.get("status") == "ok"])

    def status(self, col, dset, ep):
        runs = self.runs_of(col, dset, ep)
        if not runs:
            return None
        bad = sorted({r["status"] for r in runs if r["status"] != "ok"})
        if not bad:
            return ""
        ok = sum(1 for r in runs if r["status"] == "ok")
        if "FAILED" in bad:
            return "FAILED"
        return "/".join(bad) + (f" ({ok}/{len(runs)} ok)" if ok else "")

    def cell(self, col, dset, ep):
        st = self.status(col, dset, ep)
        if st is None:
            return "—"
        if st == "FAILED":
            return "**FAILED**"
        v, mb = self.med(col, dset, ep, "samples_s"), self.med(col, dset, ep, "mb_s")
        if v is None:
            return st
        return f"{fmt(v, 'x/s')} ({fmt(mb, 'MB/s')})" + (f" {st}" if st else "")

    def best_peer(self, dset, ep, k="samples_s"):
        pv = [(c, self.med(c, dset, ep, k)) for c in self.clients if not c.startswith("s3mount")
              and self.status(c, dset, ep) != "FAILED"]
        pv = [p for p in pv if p[1]]
        return max(pv, key=lambda p: p[1]) if pv else (None, None)

    def memory_limit(self):
        """s3mount's memory limit for the RSS target: --memory-limit from BENCH_S3MOUNT_OPTS, else the default its
        --help describes (1/16 of RAM, 256M to 1G)"""
        m = re.search(r"--memory-limit[ =](\d+)([KMG]?)", os.environ.get("BENCH_S3MOUNT_OPTS", ""))
        if m:
            return int(m.group(1)) * {"": 1, "K": KiB, "M": MiB, "G": 1 << 30}[m.group(2)], "BENCH_S3MOUNT_OPTS"
        h = self.meta.get("s3mount_help_memory") or ""
        if "1/16 of RAM" in h and "256M to 1G" in h:
            ram = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1]) * KiB
            return min(max(ram // 16, 256 * MiB), 1 << 30), "default: 1/16 of RAM, 256M to 1G (its --help)"
        return None, "unknown"

    def report(self):
        d, s, now = self.data, self.data.s, self.started
        L = []
        trial = os.environ.get("BENCH_TRIAL") == "1"
        L.append(f"# s3mount data-loader benchmark — {self.server}, scale {self.scale}, {now:%Y-%m-%d %H:%M}"
                 + (" — TRIAL (harness check, not a result)" if trial else ""))
        L.append("")
        bi = WB.WBench.binary_info(self)
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
        fb = d.set_bytes("shuffled")
        L.append(f"Data (bucket `{self.cfg['bucket']}`, prefix `{d.prefix}/`, and a copy on local disk under "
                 f"`bench/work/loader-local/`): **small files** {s['nfiles']} files of {s['fmin'] // KiB}–"
                 f"{s['fmax'] // KiB} KiB (mean {fb / s['nfiles'] / KiB:.0f} KiB, {fb / 1e6:.0f} MB) in "
                 f"{s['nclasses']} class folders `files/cNN/`; **shards** {s['nshards']} × {s['shard'] // MiB} MiB; "
                 f"**records** one {s['records'] // MiB} MiB file of {RECORD // KiB} KiB records. Random content "
                 "(a function of the key), sha256 per object and crc32 per sample recorded. Loader: "
                 f"**{self.W} worker processes, batches of {self.B}, each worker at most {self.prefetch} batches "
                 "ahead**, the consumer takes batches in order and simulates no compute (the epochs measure the "
                 f"loader's rate). Every cell is the **median of {self.runs} runs**. Epoch 1 is cold (fresh mount after "
                 "`echo 3 > /proc/sys/vm/drop_caches`); epoch 2 runs right after it in the same mount, nothing dropped, "
                 "default metadata TTL. MB = 10^6 bytes, GB = 10^9 bytes.")
        L.append("")
        # ---- targets
        L.append("## Issue 10 targets")
        L.append("")
        L.append("| target | s3mount | reference | ratio | goal | met |")
        L.append("|---|---|---|---|---|---|")

        def trow(name, sm, ref, refname, goal, ok_fn, unit):
            if sm is None or ref is None:
                L.append(f"| {name} | {fmt(sm, unit)} | {refname} {fmt(ref, unit)} | — | {goal} | not measured |")
                return
            ratio = sm / ref
            L.append(f"| {name} | {fmt(sm, unit)} | {refname} {fmt(ref, unit)} | {ratio:.2f} | {goal} | "
                     f"{'yes' if ok_fn(ratio) else '**no**'} |")

        sm = lambda dset, ep, k="samples_s", col="s3mount": (None if self.status(col, dset, ep) == "FAILED"  # noqa: E731
                                                            else self.med(col, dset, ep, k))
        for dset in ("shuffled", "listing"):
            if dset not in self.sets:
                continue
            trow(f"{SET_NAME[dset]}, epoch 1, samples/s", sm(dset, "e1"), self.med("raw", dset, "e1", "samples_s"),
                 f"raw ({self.rawN} parallel GETs)", "≥ 0.80", lambda r: r >= 0.8, "x/s")
            bp = self.best_peer(dset, "e1")
            trow(f"{SET_NAME[dset]}, epoch 1, vs the better peer", sm(dset, "e1"), bp[1], f"best peer ({bp[0]})",
                 "≥ 3.00", lambda r: r >= 3.0, "x/s")
            trow(f"{SET_NAME[dset]}, epoch 2, samples/s", sm(dset, "e2"), self.med("local", dset, "e2", "samples_s"),
                 "local disk, epoch 2", "≥ 0.90", lambda r: r >= 0.9, "x/s")
        for dset in ("shuffled", "listing"):
            if READ_ONLY in self.clients and dset in self.sets:
                trow(f"{SET_NAME[dset]}, epoch 1, --read-only, samples/s", sm(dset, "e1", col=READ_ONLY),
                     self.med("raw", dset, "e1", "samples_s"), f"raw ({self.rawN} parallel GETs)", "≥ 0.80",
                     lambda r: r >= 0.8, "x/s")
                trow(f"{SET_NAME[dset]}, epoch 2, --read-only, samples/s", sm(dset, "e2", col=READ_ONLY),
                     self.med("local", dset, "e2", "samples_s"), "local disk, epoch 2", "≥ 0.90", lambda r: r >= 0.9, "x/s")
        for dset in MANIFEST_SETS:
            if MANIFEST in self.clients and dset in self.sets:
                trow(f"{SET_NAME[dset]}, epoch 1, with --prefetch-manifest (hint), samples/s",
                     sm(dset, "e1", col=MANIFEST), self.med("raw", dset, "e1", "samples_s"),
                     f"raw ({self.rawN} parallel GETs)", "≥ 0.80", lambda r: r >= 0.8, "x/s")
        if "shards" in self.sets:
            rn = (self.runs_of("raw", "shards", "e1") or [{}])[0].get("note", "")
            trow("shards, epoch 1, aggregate MB/s", sm("shards", "e1", "mb_s"), self.med("raw", "shards", "e1", "mb_s"),
                 f"raw parallel ceiling (better of {self.W} whole-shard GETs / {self.rawN} ranged)", "≥ 0.90",
                 lambda r: r >= 0.9, "MB/s")
        if "records" in self.sets:
            trow(f"records, epoch 1, {RECORD // KiB} KiB records/s", sm("records", "e1"),
                 self.med("raw", "records", "e1", "samples_s"), f"raw ({self.rawN} parallel {RECORD // KiB} KiB ranged GETs)",
                 "≥ 0.80", lambda r: r >= 0.8, "x/s")
        if self.pace > 0:
            for dset in self.sets:
                trow(f"{SET_NAME[dset]}: stall p99 after the first batch (paced pass), ms",
                     sm(dset, "paced", "stall_p99_ms"), self.med("s3mount", dset, "paced", "pace_ms"),
                     "one batch's consumption time", "< 1.00", lambda r: r < 1.0, "ms")
        lim, limsrc = self.memory_limit()
        for col, who in (("s3mount", "s3mount"), (READ_ONLY, "s3mount --read-only"), (MANIFEST, "s3mount --prefetch-manifest")):
            rss = [r.get("rss_kib") for k, runs in self.results.items() if k[0] == col for r in runs if r.get("rss_kib")]
            if rss:
                mx = max(rss) * KiB
                L.append(f"| {who} peak RSS (VmHWM), highest of all its mounts, MiB | {mx / MiB:.0f} | memory limit + 64 MiB "
                         f"{'—' if lim is None else f'{(lim + 64 * MiB) / MiB:.0f}'} ({limsrc}) | "
                         f"{'—' if lim is None else f'{mx / (lim + 64 * MiB):.2f}'} | ≤ 1.00 | "
                         f"{'—' if lim is None else ('yes' if mx <= lim + 64 * MiB else '**no**')} |")
        L.append("")
        L.append(f"Ratios are of medians. Stall target: in the **paced pass** (a fresh cold mount, the first "
                 f"{self.paced_batches} batches of epoch 1, the consumer sleeping one simulated training step per batch), "
                 f"one batch's consumption time = the step = the time one batch takes at {self.pace:g} × this run's raw "
                 "rate of the same data set (a GPU that eats exactly as fast as the throughput target asks the loader to "
                 "deliver); the stall p99 over batches 2… must be below it. In the unpaced epochs below the consumer "
                 "does nothing between batches, so there stall ≈ batch interval: compare stall p99 with the batch "
                 "interval median there for the tail.")
        if MANIFEST in self.clients:
            hs = [r["head_start_s"] for (c, _, ep), runs in self.results.items() if c == MANIFEST and ep == "e1"
                  for r in runs if r.get("head_start_s") is not None]
            L.append("")
            L.append("The `--prefetch-manifest` rows are not cold at the clock as raw and the s3mount column are: the hint "
                     "fetches from the mount on, and the epoch's clock starts after the mount's root listing, "
                     "drop_caches, the index walk and the workers' fork"
                     + (f" ({min(hs):.1f}–{max(hs):.1f} s here)" if hs else "")
                     + ", which a job would spend too (with its own start-up besides). The per-run notes give each "
                     "run's head start; the MiB fetched before the walk plus the epoch's S3 GET MiB (details) is all it fetched. "
                     "Read these rows as: a job that starts reading that long after its mount.")
        L.append("")
        # ---- the one table
        cols = ["local", "raw"] + self.clients
        L.append("## Samples/s (MB/s), median of runs")
        L.append("")
        L.append("| data set | epoch | " + " | ".join(cols) + " | s3mount/raw | s3mount/best peer | s3mount/local |")
        L.append("|---|---|" + "---|" * (len(cols) + 3))
        for dset in self.sets:
            for ep in ("e1", "e2"):
                row = [SET_NAME[dset], ep[1]]
                for c in cols:
                    row.append("— (= epoch 1)" if c == "raw" and ep == "e2" else self.cell(c, dset, ep))
                v = sm(dset, ep)
                rw = self.med("raw", dset, "e1", "samples_s")
                bp = self.best_peer(dset, ep)
                lo = self.med("local", dset, ep, "samples_s")
                row.append(f"{v / rw:.2f}" if v and rw else "—")
                row.append(f"{v / bp[1]:.2f}" if v and bp[1] else "—")
                row.append(f"{v / lo:.2f}" if v and lo else "—")
                L.append("| " + " | ".join(row) + " |")
        L.append("")
        L.append(f"**local** = the same loader on the local-disk copy (epoch 1 after drop_caches: the disk; epoch 2: the "
                 f"page cache) — the ceiling. **raw** = the wire: one `curl --parallel --parallel-max {self.rawN}` process "
                 "GETting the same objects (small files: whole files; records: 64 KiB ranged GETs) in epoch 1's order, "
                 "output discarded, rate = samples (bytes) / wall time; shards: the better of "
                 f"{self.W} parallel whole-shard GETs and {self.rawN} parallel ranged GETs covering every shard "
                 "(see the detail table). The raw rate is the same in both epochs (S3 has no client cache), so "
                 "s3mount/raw of epoch 2 divides by the epoch 1 raw value. Peers: s3fs with bench.py's tuned options, "
                 "rclone mount with `--vfs-cache-mode full` (its best mode for reads: ranged reads, epoch 2 from its disk "
                 "cache; the cache is emptied before each mount).")
        if READ_ONLY in self.clients:
            L.append("")
            L.append(f"**{READ_ONLY}** = s3mount with the s3mount column's options plus `--read-only`, the option a "
                     "dataset mount gets: the kernel then sends no open, flush or release for files (docs/SEMANTICS.md), "
                     "so an epoch over files in the page cache costs no request per file. Not a peer.")
        if MANIFEST in self.clients:
            L.append("")
            L.append(f"**{MANIFEST}** = s3mount with the s3mount column's options plus `--prefetch-manifest FILE`, FILE "
                     "listing epoch 1's paths (relative to the mount root) in the order its batches read them, written "
                     "before each mount; the paced pass uses the same epoch-1 manifest, epoch 2 (another order) runs in "
                     "the mount of epoch 1. Small-file sets only (the hint names files): not run on shards and records "
                     "(— in its column). It is not a peer (best peer = s3fs/rclone only). Its head start before the "
                     "clock: see under the targets.")
        L.append("")
        # ---- details
        L.append("## Details, median of runs")
        L.append("")
        L.append("| data set | epoch | column | samples/s | MB/s | stall p50 ms | stall p99 ms | stall max ms | batch "
                 "interval p50 ms | first batch ms | index s | S3 GET MiB | S3 requests | CPU s/GB | peak RSS MiB | status |")
        L.append("|" + "---|" * 16)
        dcols = ["local", "raw"] + (["raw-whole", "raw-ranged"] if "shards" in self.sets else []) + self.clients
        for dset in self.sets:
            for ep in ("e1", "e2", "paced"):
                for c in dcols:
                    if not self.runs_of(c, dset, ep):
                        continue
                    g = lambda k: self.med(c, dset, ep, k)  # noqa: E731
                    rss = g("rss_kib")
                    s3b, s3r = g("s3_bytes"), g("s3_reqs")
                    L.append("| " + " | ".join([
                        SET_NAME[dset], ep if ep == "paced" else ep[1],
                        c + (f" (step {fmt(g('pace_ms'), 'ms')} ms)" if ep == "paced" else ""),
                        fmt(g("samples_s"), "x/s"), fmt(g("mb_s"), "MB/s"), fmt(g("stall_p50_ms"), "ms"),
                        fmt(g("stall_p99_ms"), "ms"), fmt(g("stall_max_ms"), "ms"), fmt(g("interval_p50_ms"), "ms"),
                        fmt(g("first_batch_ms"), "ms"), fmt(g("index_s"), "s"),
                        "—" if s3b is None else f"{s3b / MiB:.1f}", "—" if s3r is None else f"{s3r:.0f}",
                        fmt(g("cpu_per_gb"), "s"),
                        f"{rss / 1024:.0f}" if rss else "—", self.status(c, dset, ep) or "ok"]) + " |")
        L.append("")
        L.append(f"stall = how long the consumer waited for the batch (batches 2…; the first batch, which includes the "
                 "cold start, is its own column); batch interval = time between two batches taken; index s = the walk "
                 "of the class folders that builds the file list (ImageFolder-style: os.listdir + os.scandir of each "
                 "folder, sorted; epoch 1 only, outside the epoch's clock). S3 GET MiB = bytes the server sent during the "
                 f"epoch (witness: {self.witness.desc or 'none available'}) vs {fb / MiB:.1f} MiB of small files, "
                 f"{d.set_bytes('shards') / MiB:.0f} MiB of shards, {s['records'] / MiB:.0f} MiB of records: more = "
                 "read amplification or prefetch, less in epoch 2 = cache hits. S3 requests = every request the gateway "
                 "served during the epoch (GET, HEAD, LIST…; Ceph's rgw.req), against the epoch's samples: in epoch 2 a "
                 "request per file is a metadata round trip per file. CPU s/GB = the FUSE daemon's "
                 "utime+stime during the epoch per GB the loader read (raw: curl's own CPU per GB); peak RSS = its "
                 "VmHWM at the end of the epoch (peak since the mount).")
        L.append("")
        # ---- checks, notes
        L.append("## Checks and notes")
        L.append("")
        L.append("- Every sample a worker reads is checked: the worker returns its length and crc32 (zlib, computed "
                 "inside the epoch — ~3 GB/s, the stand-in for a real loader touching its bytes), and after the clock "
                 "stops the consumer compares them with the manifest; one wrong byte makes the cell FAILED. The index "
                 "walk must list exactly the data set's files. Raw: curl must report the right byte count and HTTP "
                 "200/206 for every transfer (the bytes themselves are checked once per run by the warm-up's sha256 of "
                 "every object).")
        L.append("- Known biases: (1) the server (Ceph OSD + radosgw), the FUSE daemon, the loader's workers and curl "
                 f"share {os.cpu_count()} cores: a client that spends more CPU slows the server too. (2) The local "
                 "copy shares its disk with the OSD. (3) raw runs no FUSE and no page cache and fetches with "
                 f"{self.rawN} connections in one process; the loader has {self.W} workers × {self.prefetch} batches "
                 "in flight, each worker reading its batch's samples one after another — a FUSE client reaches the "
                 "raw rate only if it fetches ahead of the readers. (4) Each client runs with its own defaults "
                 "(kernel read-ahead, attribute/entry timeouts); s3fs-tuned uses bench.py's options. (5) Clients are "
                 "measured in turn within a run (local, raw, then the clients), runs repeat the round. (6) FUSE clients read "
                 "through the kernel page cache and its read-ahead: a cold random 64 KiB read asks the daemon for up to "
                 "the read-ahead window (128 KiB by default), so a record's neighbour is often cached when its turn "
                 "comes, while raw GETs exactly 64 KiB per record — records/s above raw is that, not a faster wire "
                 "(S3 GET MiB shows what was fetched). (7) `drop_caches` before every epoch 1 (and before raw) also "
                 "empties the server's buffered metadata, so the first requests of every column find the server cold "
                 "in the same way.")
        notes = []
        for (col, dset, ep), runs in self.results.items():
            for i, r in enumerate(runs):
                if r.get("note") and not (col == "raw" and dset == "shards" and r.get("note") in ("whole", "ranged")) \
                        or r["status"] != "ok":
                    notes.append(f"  - {col} {dset} {ep} run {i + 1}: {r['status']} {r.get('note', '')}".rstrip())
        if notes:
            L.append("- Per-run notes:")
            L += notes
        L.append("")
        L.append("## All runs (samples/s; stall p99 ms)")
        L.append("")
        L.append("| column | data set | epoch | runs |")
        L.append("|---|---|---|---|")
        for (col, dset, ep), runs in self.results.items():
            L.append(f"| {col} | {dset} | {ep} | " + ", ".join(
                (fmt(r.get("samples_s"), "x/s") if r.get("samples_s") is not None else "")
                + (f"; {fmt(r['stall_p99_ms'], 'ms')}" if r.get("stall_p99_ms") is not None else "")
                + ("" if r["status"] == "ok" else f" {r['status']}") for r in runs) + " |")
        L.append("")
        L.append("## Machine and versions")
        L.append("")
        mi = B.machine_info(self.server)
        mi["s3mount"] = f"{bi['version']} (the binary and its commit: see the top)"
        L += [f"- {k}: {v}" for k, v in mi.items() if k != "fio"]
        L.append(f"- s3mount --help on --memory-limit: {self.meta.get('s3mount_help_memory') or 'not in --help'}")
        L.append("")
        L.append("## Exact commands")
        L.append("")
        L.append("```")
        L.append(f"# harness: BENCH_SUITE=loader BENCH_SERVER={self.server} BENCH_SCALE={self.scale} "
                 f"BENCH_RUNS={self.runs} bench/run.sh   (or make bench-loader)")
        L.append(f"# loader: python3 bench/loader_bench.py worker loader < ARGS.json   ({self.W} processes forked "
                 f"(multiprocessing, fork), batch {self.B}, prefetch {self.prefetch}; small files: open + readall + "
                 "close; shards: os.pread 1 MiB at growing offsets; records: os.pread 64 KiB on a per-worker fd)")
        for k, v in self.commands.items():
            L.append(f"# {k}\n{v}")
        L.append("```")
        text = "\n".join(L) + "\n"
        name = f"{self.server}-{now:%Y-%m-%d}-loader" + ("" if self.scale == "full" else f"-{self.scale}") \
            + (f"-{os.environ['BENCH_TAG']}" if os.environ.get("BENCH_TAG") else "")
        out = RESULTS / f"{name}.md"
        out.write_text(text)
        self.meta.update(commands=self.commands, wit_desc=self.witness.desc, started=self.started.isoformat())
        raw = {"_meta": self.meta}
        raw.update({f"{c}|{ds}|{ep}": r for (c, ds, ep), r in self.results.items()})
        (RESULTS / f"{name}.raw.json").write_text(json.dumps(raw, indent=1, default=str))
        print(text)
        log(f"report: {out}")
        return out


def rerender(path):
    """`loader_bench.py report RAW.json`: the report again from a run's raw values (same environment)"""
    b = LBench()
    B.load_raw(b, path, 3)
    b.clients = [c for c in b.clients if any(k[0] == c for k in b.results)]   # e.g. a run from before a column existed
    b.report()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "worker":
        worker_main(sys.argv[2])
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "report":
        rerender(sys.argv[2])
        return
    B.run_to_the_end(LBench())


if __name__ == "__main__":
    main()
