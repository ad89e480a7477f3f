#!/usr/bin/env python3
"""s3mount cache-tier benchmark (issue 9, "a node-wide cache"): does the cache tier (--cache-dir DIR, blocks under
DIR/blocks, --cache-size; 0 = off) make epoch 2 run at local-disk speed, cost epoch 1 nothing, and spare S3 a second
mount's GETs?  On bench.py's data (the big object and the many-small-files set), per run and per set, in this order:

  local       the same files copied to bench/work/cache-local/ (the cache dir's disk), page cache dropped
  e1-off      epoch 1 through a fresh mount with --cache-size 0 (tier off)
  e1-on       epoch 1 through a fresh mount with the tier on, in a fresh temp cache dir (cold)   [runs 2, 4, …: on
              first, then off, so drift spreads over both]
  second      a second mount of the bucket on another mount point, same cache dir, while e1-on's mount is still up:
              page cache dropped, the same read; its data GETs (the gateway's rgw.get / get_b, the daemon's own GET
              count) — target 0
  e2          both unmounted, page cache dropped, a fresh mount on the warm cache dir: epoch 2 from the tier
              (memory cold, page cache cold)
  e2-warm     epoch 3 right after in e2's mount, nothing dropped: the page cache holds the data, every open and
              close still goes to the daemon — the FUSE path's ceiling, beside which e2's figures read

Every s3mount mount is --read-only (two read-write mounts of one bucket and prefix may not share a cache dir: each
needs the staging area to itself) with --stats-file (the tier's hit / stored bytes, the daemon's GETs).  The cache
dir is a fresh temp dir under bench/work per run and set, removed after it (never /var/cache/s3mount).

Started by `BENCH_SUITE=cache bench/run.sh`, which installs tools, builds s3mount, starts the server and unmounts
everything on exit; it reuses bench.py's Data, Witness, drop_caches, Client/mount bookkeeping and read workers, and
write_bench.py's binary identification.  Settings from the environment:

  AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY      the server (one endpoint: the witness's gateway)
  BENCH_BUCKET (s3mount-bench)  BENCH_SERVER (ceph|juicefs)  BENCH_SCALE (full|small)  BENCH_RUNS (3)  S3MOUNT_BIN
  BENCH_CACHE_SETS (big,files)  BENCH_CACHE_SIZE (--cache-size of the tier-on mounts; default: s3mount's default)
  BENCH_CACHE_FS (loop: local copy and cache dirs on an ext4 image of their own, BENCH_CACHE_FS_SIZE 8G; give it
                  BENCH_CACHE_SIZE too, as the default 10 % of 8G does not hold the 2 GiB object)
  BENCH_S3MOUNT_OPTS (added to every s3mount mount)  BENCH_STEP_TIMEOUT (s, per measured step)
  BENCH_S3MOUNT_COMMIT (the commit the binary was built from, if its --version does not say)  BENCH_TRIAL=1  BENCH_TAG

`cache_bench.py report RAW.json` renders the report again from a run's raw values.
"""
import datetime
import hashlib
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.dont_write_bytecode = True   # no bench/__pycache__ in the work tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as B  # noqa: E402  (shared: Data, Witness, drop_caches, Client, workers, machine_info)
import write_bench as WB  # noqa: E402  (shared: binary_info, s3_client, s3mount_help, fmt)

MiB = B.MiB
WORK, LOGS, RESULTS = B.WORK, B.LOGS, B.RESULTS
# BENCH_CACHE_FS=loop: the local copy and the cache dirs on an ext4 image of their own (no reserved blocks), loop-
# mounted at bench/work/cache-fs and removed at the end — for a disk whose reserved blocks put it over the tier's
# "90 % full" mark (statvfs f_bavail), where the tier stores nothing
LOOP = os.environ.get("BENCH_CACHE_FS", "") == "loop"
LOOP_IMAGE, LOOP_MNT = WORK / "cache-fs.img", WORK / "cache-fs"
BASE = LOOP_MNT if LOOP else WORK
LOCAL_ROOT = BASE / "cache-local"          # the local-disk copy (same relative keys), kept between runs
TIER_PREFIX = "cache-tier-"                # <BASE>/cache-tier-*: the per-run cache dirs (run.sh removes strays)
READERS = B.W3_READERS                     # the small-files set is read like bench.py's w3
ALL_SETS = ["big", "files"]
SET_NAME = {"big": "big object, sequential 1 MiB reads", "files": f"small files, {READERS} parallel readers"}
COLUMNS = ["local", "e1-off", "e1-on", "second", "e2", "e2-warm"]
COLUMN_NAME = {
    "local": "local disk (page cache dropped)",
    "e1-off": "epoch 1, tier off (--cache-size 0)",
    "e1-on": "epoch 1, tier on (cold)",
    "second": "second mount, after the first (tier warm)",
    "e2": "epoch 2, remounted (tier warm, memory and page cache cold)",
    "e2-warm": "epoch 3 in epoch 2's mount (page cache warm: the FUSE ceiling)",
}
fmt = WB.fmt


def log(*a):
    B.log(*a)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def loadavg():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class TierMount(B.Client):
    """An s3mount mount for this suite: the s3mount column's command (BENCH_S3MOUNT_OPTS included) plus --read-only,
    --cache-dir (the run's temp dir), --cache-size 0 when the tier is off (BENCH_CACHE_SIZE when on), and a
    --stats-file read around each step."""

    def __init__(self, name, cfg, tier_on):
        super().__init__(name, cfg)
        self.tier_on = tier_on
        self.cache_dir = None
        self.stats_path = WORK / f"cache-stats-{name}.json"

    def command(self):
        base = B.Client("s3mount", self.cfg)
        base.mnt = self.mnt
        cmd = base.command()
        cmd[cmd.index("--log-file") + 1] = str(LOGS / f"cache-{self.name}.log")
        size = ["--cache-size", "0"] if not self.tier_on else (
            ["--cache-size", self.cfg["cache_size"]] if self.cfg.get("cache_size") else [])
        cmd[cmd.index("--cache-dir") + 1] = str(self.cache_dir or WORK / f"{TIER_PREFIX}RUN")
        return cmd + ["--read-only", "--stats-file", str(self.stats_path)] + size

    def mount(self):
        self.stats_path.unlink(missing_ok=True)
        super().mount()

    def stats(self, newer_than=None, deadline=5.0):
        """the stats file, once it exists (and was rewritten after `newer_than`, a time.time()); None if it is not
        there (or not rewritten) within `deadline` seconds — the daemon rewrites it every second"""
        t0 = time.time()
        while True:
            try:
                st = self.stats_path.stat()
                if newer_than is None or st.st_mtime > newer_than:
                    return json.loads(self.stats_path.read_text())
            except (OSError, ValueError):
                pass
            if time.time() - t0 > deadline:
                return None
            time.sleep(0.1)


def tier_counts(st):
    """(daemon GETs, tier hit bytes, tier stored bytes) from a stats document"""
    if not st:
        return None, None, None
    t = st.get("cache_tier") or {}
    return st.get("gets"), t.get("hit_bytes"), t.get("stored_bytes")


class CBench:
    def __init__(self):
        e = os.environ
        self.server = e.get("BENCH_SERVER", "ceph")
        self.scale = e.get("BENCH_SCALE", "full")
        self.runs = int(e.get("BENCH_RUNS", "3"))
        self.sets = [s for s in e.get("BENCH_CACHE_SETS", ",".join(ALL_SETS)).split(",") if s]
        self.step_timeout = int(e.get("BENCH_STEP_TIMEOUT", "900" if self.scale == "full" else "300"))
        self.cfg = dict(endpoint=e.get("AWS_ENDPOINT_URL", "").rstrip("/"), bucket=e.get("BENCH_BUCKET", "s3mount-bench"),
                        ak=e.get("AWS_ACCESS_KEY_ID", ""), sk=e.get("AWS_SECRET_ACCESS_KEY", ""),
                        s3mount_bin=e.get("S3MOUNT_BIN", "s3mount"), cache_size=e.get("BENCH_CACHE_SIZE", ""))
        self.data = B.Data(self.scale, self.server)
        self.witness = B.Witness(self.server, self.cfg["endpoint"])
        self.results = {}     # (set, column) -> [run dict]
        self.commands = {}
        self.meta = {"load_start": loadavg()}
        self.started = datetime.datetime.now()
        self.tmp = None

    # -- setup
    def setup(self):
        for d in (WORK, B.MNT_ROOT, B.PIDS_DIR, LOGS, RESULTS, LOCAL_ROOT):
            d.mkdir(parents=True, exist_ok=True)
        help_text = WB.s3mount_help(self.cfg["s3mount_bin"])
        if "--cache-size" not in help_text:
            raise SystemExit(f"{self.cfg['s3mount_bin']} has no --cache-size: not a build with the cache tier")
        self.s3 = WB.s3_client(self.cfg, pool=40)
        try:
            self.s3.head_bucket(Bucket=self.cfg["bucket"])
        except Exception:
            self.s3.create_bucket(Bucket=self.cfg["bucket"])
        self.data.ensure(self.s3, self.cfg["bucket"])
        if LOOP:
            self.mount_loop_fs()
        self.meta["fs"] = fs_note(BASE)
        self.local_copy()
        self.mounts = {n: TierMount(n, self.cfg, tier_on=(n != "s3mount-tier-off"))
                       for n in ("s3mount-tier-off", "s3mount-tier", "s3mount-second")}
        for m in self.mounts.values():
            self.commands[f"mount {m.name}"] = shlex.join(m.command()).replace(f"{TIER_PREFIX}RUN", f"{TIER_PREFIX}XXXX")
        self.warmup()

    @staticmethod
    def mount_loop_fs():
        if B.is_mounted(LOOP_MNT):
            return
        LOOP_MNT.mkdir(parents=True, exist_ok=True)
        # allocated up front and initialised whole (no lazy inode-table init writing in the background during the
        # first runs: a fresh image made run 1's tier writes fall behind), and the loop device passes I/O straight
        # to the image (direct I/O: no second page cache under the filesystem, as on a real disk)
        B.sh(["fallocate", "-l", os.environ.get("BENCH_CACHE_FS_SIZE", "8G"), str(LOOP_IMAGE)], check=True)
        B.sh(["mkfs.ext4", "-q", "-F", "-m", "0", "-E", "lazy_itable_init=0,lazy_journal_init=0", str(LOOP_IMAGE)],
             timeout=300, check=True)
        B.sh(["mount", "-o", "loop", str(LOOP_IMAGE), str(LOOP_MNT)], timeout=120, check=True)
        # the loop device gets the kernel's default read-ahead (128 KiB); the disk under it has its own: the local
        # column's single reader would otherwise read the loop device far slower than the disk
        loop = B.sh(["findmnt", "-n", "-o", "SOURCE", str(LOOP_MNT)], check=True).stdout.strip().rsplit("/", 1)[-1]
        st = os.stat(LOOP_IMAGE)
        disk = Path(f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}")
        ra = next((q for q in (disk / "queue/read_ahead_kb", disk / "../queue/read_ahead_kb") if q.exists()), None)
        if ra:
            Path(f"/sys/block/{loop}/queue/read_ahead_kb").write_text(ra.read_text())
        B.sh(["losetup", "--direct-io=on", f"/dev/{loop}"], timeout=60)
        dio = Path(f"/sys/block/{loop}/loop/dio")
        log(f"cache dirs and local copy on {LOOP_MNT} (ext4 on {loop}, image {LOOP_IMAGE}, read_ahead_kb "
            f"{Path(f'/sys/block/{loop}/queue/read_ahead_kb').read_text().strip()}, direct I/O "
            f"{dio.read_text().strip() if dio.exists() else '?'})")

    def keys(self, dset):
        return [self.data.big] if dset == "big" else list(self.data.files)

    def set_bytes(self, dset):
        return sum(self.data.sizes[k] for k in self.keys(dset))

    def local_copy(self):
        """the local-disk column's files: written from the data's generator where missing or of the wrong size,
        then every one checked against the manifest's sha256"""
        d = self.data
        keys = self.keys("big") + self.keys("files")

        def ensure(k):
            p = LOCAL_ROOT / k
            if not p.exists() or p.stat().st_size != d.sizes[k]:
                p.parent.mkdir(parents=True, exist_ok=True)
                with open(p, "wb") as f:
                    for chunk in B.gen_chunks(k, d.sizes[k]):
                        f.write(chunk)
            h = hashlib.sha256()
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(8 * MiB), b""):
                    h.update(chunk)
            if h.hexdigest() != d.sha(k):
                raise RuntimeError(f"local copy {p} does not match the manifest")
        log(f"local copy under {LOCAL_ROOT}: {len(keys)} files (written where missing, all checked)")
        with ThreadPoolExecutor(4) as ex:
            list(ex.map(ensure, keys))

    def warmup(self):
        """every object this suite reads, read once from the server and checked: the server's caches are equally warm
        for every column and its copy is known to be right"""
        log("warm-up: reading the big object and the small files once from the server (and checking sha256)")
        B.read_and_check(self.s3, self.cfg["bucket"], self.keys("big") + self.keys("files"), self.data.sha)

    # -- the gateway's counters
    def counters(self):
        """(GET bytes, GET requests, all requests, admin socket) the gateway has served so far: Ceph — radosgw's perf
        counters rgw.get_b, rgw.get, rgw.req; JuiceFS — GET bytes only"""
        w = self.witness
        if self.server == "ceph":
            m = re.search(r"\.(\d+)\.\d+\.asok$", w.asok or "")
            if not m or not os.path.exists(f"/proc/{m.group(1)}"):
                w.asok = None
                w.get_bytes()   # finds the admin socket of the radosgw now serving the endpoint's port
            if w.asok:
                try:
                    r = B.sh(["ceph", "--admin-daemon", w.asok, "perf", "dump", "rgw"], timeout=15)
                    c = json.loads(r.stdout)["rgw"]
                    return int(c["get_b"]), int(c["get"]), int(c["req"]), w.asok
                except (subprocess.TimeoutExpired, ValueError, KeyError):
                    pass
            return None, None, None, w.asok
        return w.get_bytes(), None, None, None

    # -- one measured read
    def read(self, dset, root):
        """the set read once under `root` (a mount or the local copy): -> result dict (value, seconds, bytes,
        status); the bytes are checked after the clock (big: sha256 read again through the same path right after;
        files: each file's bytes from the timed read)"""
        d, to = self.data, self.step_timeout
        if dset == "big":
            path, size = str(Path(root) / d.big), d.s["big"]
            cmd = B.fio_cmd("cache-big", path, ["--rw=read", "--bs=1M", f"--size={size}"])
            self.commands.setdefault("big", shlex.join(cmd).replace(path, "ROOT/<scale>/big.bin"))
            r = B.run_worker("fio", {"cmd": cmd, "timeout": to, "expect_bytes": size}, to + 30)
            if r.get("timeout"):
                return {"status": "TIMEOUT"}
            if "error" in r:
                return {"status": "ERROR", "note": r["error"][:300]}
            res = {"status": "ok", "value": r["bw"] / 1e6, "mb_s": r["bw"] / 1e6, "bytes": size,
                   "seconds": size / r["bw"]}
            res["_verify"] = lambda: self.verify_big(path, res)
            return res
        # the worker takes its arguments as one argv string (at most 128 KiB): paths relative to the root's parent,
        # its working directory, keep 2,000 of them under that
        root = Path(root)
        paths = [f"{root.name}/{k}" for k in d.files]
        self.commands.setdefault("files", f"{READERS} Python threads: open, readinto(memory touched before the clock) to EOF, close, for each of "
                                 "ROOT/<scale>/files/* (bench.py worker files); files / wall seconds")
        cwd = os.getcwd()
        os.chdir(root.parent)
        try:
            r = B.run_worker("files", {"paths": paths, "threads": READERS, "size": max(d.sizes[k] for k in d.files)}, to)
        finally:
            os.chdir(cwd)
        if r.get("timeout"):
            return {"status": "TIMEOUT"}
        if "error" in r:
            return {"status": "ERROR", "note": r["error"][:300]}
        nbytes = self.set_bytes("files")
        bad = sum(1 for k, h in zip(d.files, r["sha256"]) if h != d.sha(k))
        res = {"status": "ok" if bad == 0 else "FAILED", "value": len(paths) / r["seconds"],
               "mb_s": nbytes / r["seconds"] / 1e6, "bytes": nbytes, "seconds": r["seconds"]}
        if bad:
            res["note"] = f"{bad} of {len(paths)} files: sha256 mismatch"
        return res

    def verify_big(self, path, res):
        v = B.run_worker("sha", {"path": path}, self.step_timeout)
        if v.get("sha256") != self.data.sha(self.data.big) and res["status"] == "ok":
            res.update(status="FAILED", note=f"sha256 read again through the same path: {v.get('sha256') or v}"[:300])

    @staticmethod
    def cold():
        """page cache emptied: dirty pages (blocks the tier just wrote, the local copy) written back first, since
        drop_caches only drops clean ones"""
        os.sync()
        B.drop_caches()

    def local_step(self, dset):
        self.cold()
        res = self.read(dset, LOCAL_ROOT)
        res.pop("_verify", None)   # the local copy was checked at set-up
        return res

    def fuse_step(self, m, dset, fresh=True):
        """the set read through mount `m` — fresh: mounted now and the page cache dropped, else as it is; with the
        daemon's CPU and peak RSS, the gateway's GET bytes / GETs / requests and the stats file's GETs and tier bytes
        around the read"""
        if fresh:
            m.mount()
            self.cold()
        s0 = m.stats()
        n0 = self.counters()
        c0 = m.stat()[0]
        res = self.read(dset, m.mnt)
        t_end = time.time()
        c1, hwm = m.stat()
        n1 = self.counters()
        verify = res.pop("_verify", None)
        res.update(cpu=c1 - c0, rss_kib=hwm)
        if res.get("bytes"):
            res["cpu_per_gb"] = res["cpu"] / (res["bytes"] / 1e9)
        if not m.pids:
            res["note"] = (res.get("note", "") + " daemon pid not found").strip()
        if n0[3] != n1[3]:
            res["note"] = (res.get("note", "") + " the gateway restarted during the step: no S3 counts").strip()
        else:
            for i, k in enumerate(("s3_bytes", "s3_gets", "s3_reqs")):
                if n0[i] is not None and n1[i] is not None:
                    res[k] = n1[i] - n0[i]
        s1 = m.stats(newer_than=t_end)
        a, b = tier_counts(s0), tier_counts(s1)
        for i, k in enumerate(("daemon_gets", "tier_hit_bytes", "tier_stored_bytes")):
            if a[i] is not None and b[i] is not None:
                res[k] = b[i] - a[i]
        if verify:
            verify()
        return res

    def settle(self, m, dset, res):
        """after epoch 1 with the tier on: wait until the daemon reports the whole set stored in the tier (blocks are
        written after their GET, beside the reader) and its stored count has not moved for 1.5 s (a block the
        kernel asked for again, after this VM's reclaim dropped its pages, is fetched and stored twice: the count
        can reach the set's size with a block still on its way), or the count stops growing for 3 s (60 s at
        most); the wait, outside the clock, is noted"""
        want, t0, last, last_t, stored = self.set_bytes(dset), time.time(), None, time.time(), 0
        while time.time() - t0 < 60:
            st = m.stats(newer_than=time.time() - 0.5, deadline=3)
            stored = tier_counts(st)[2] or 0
            if stored != last:
                last, last_t = stored, time.time()
            quiet = time.time() - last_t
            if (stored >= want and quiet > 1.5) or quiet > 3:
                break
            time.sleep(0.5)
        res["tier_total_stored"] = stored
        res["settle_s"] = time.time() - t0
        if stored < want:
            res["note"] = (res.get("note", "") + f" the tier holds {stored / MiB:.1f} of {want / MiB:.1f} MiB "
                           "after epoch 1").strip()

    # -- bookkeeping
    def record(self, dset, col, run):
        self.results.setdefault((dset, col), []).append(run)
        keys = ("value", "mb_s", "cpu_per_gb")
        log(f"  {dset:5s} {col:6s} run {len(self.results[(dset, col)])}: {run.get('status')} "
            + " ".join(f"{k}={run[k]:.4g}" for k in keys if isinstance(run.get(k), (int, float)))
            + (f" rss {run['rss_kib'] // 1024} MiB" if run.get("rss_kib") else "")
            + (f" S3 {run['s3_bytes'] / MiB:.1f} MiB/{run.get('s3_gets')} GETs" if run.get("s3_bytes") is not None else "")
            + (f" daemon GETs {run['daemon_gets']}" if run.get("daemon_gets") is not None else "")
            + (f" tier hit {run['tier_hit_bytes'] / MiB:.1f} MiB" if run.get("tier_hit_bytes") else "")
            + (f" stored {run['tier_stored_bytes'] / MiB:.1f} MiB" if run.get("tier_stored_bytes") else "")
            + (f"  ({run['note']})" if run.get("note") else ""))

    @staticmethod
    def guarded(fn):
        """fn()'s result, or an ERROR result if it raised (a mount that failed): the cell says so, the run goes on"""
        try:
            return fn()
        except Exception as e:
            return {"status": "ERROR", "note": f"{type(e).__name__}: {e}"[:300]}

    # -- one set in one run: local, epoch 1 off / on (alternating which comes first), second mount, epoch 2
    def set_round(self, dset, run_idx):
        off, on, second = (self.mounts[n] for n in ("s3mount-tier-off", "s3mount-tier", "s3mount-second"))
        self.tmp = Path(tempfile.mkdtemp(prefix=TIER_PREFIX, dir=BASE))
        try:
            off.cache_dir = self.tmp / "off"     # --cache-size 0: nothing is written there
            on.cache_dir = second.cache_dir = self.tmp / "tier"
            self.record(dset, "local", self.guarded(lambda: self.local_step(dset)))

            def tier_off():
                try:
                    self.record(dset, "e1-off", self.guarded(lambda: self.fuse_step(off, dset)))
                finally:
                    off.unmount()

            def tier_on():
                try:
                    res = self.guarded(lambda: self.fuse_step(on, dset))
                    if res["status"] == "ok":
                        self.settle(on, dset, res)
                    self.record(dset, "e1-on", res)
                    self.record(dset, "second", self.guarded(lambda: self.fuse_step(second, dset)))
                finally:
                    second.unmount()
                    on.unmount()

            for step in ((tier_off, tier_on) if run_idx % 2 == 0 else (tier_on, tier_off)):
                step()
            try:
                self.record(dset, "e2", self.guarded(lambda: self.fuse_step(on, dset)))
                if B.is_mounted(on.mnt):
                    self.record(dset, "e2-warm", self.guarded(lambda: self.fuse_step(on, dset, fresh=False)))
            finally:
                on.unmount()
            du = sum(p.stat().st_size for p in (self.tmp / "tier").rglob("*") if p.is_file())
            self.results.setdefault((dset, "tier_dir_bytes"), []).append({"status": "ok", "value": du})
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def run(self):
        self.setup()
        for run_idx in range(self.runs):
            for dset in self.sets:
                log(f"=== run {run_idx + 1}/{self.runs}: {SET_NAME[dset]} (load {loadavg()})")
                self.set_round(dset, run_idx)
        self.meta["load_end"] = loadavg()
        return self.report()

    def cleanup(self):
        for m in getattr(self, "mounts", {}).values():
            try:
                m.unmount()
            except Exception as e:
                log(f"cleanup {m.name}: {e}")
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if LOOP:
            if B.is_mounted(LOOP_MNT):
                B.sh(["umount", str(LOOP_MNT)], timeout=120)
            LOOP_IMAGE.unlink(missing_ok=True)

    # -- report
    def runs_of(self, dset, col):
        return self.results.get((dset, col), [])

    def med(self, dset, col, k):
        return median([r.get(k) for r in self.runs_of(dset, col) if r.get("status") == "ok"])

    def status(self, dset, col):
        runs = self.runs_of(dset, col)
        if not runs:
            return None
        bad = sorted({r["status"] for r in runs if r["status"] != "ok"})
        if "FAILED" in bad:
            return "FAILED"
        ok = sum(1 for r in runs if r["status"] == "ok")
        return "" if not bad else "/".join(bad) + (f" ({ok}/{len(runs)} ok)" if ok else "")

    def unit(self, dset):
        return "MB/s" if dset == "big" else "files/s"

    def report(self):
        d, s, now = self.data, self.data.s, self.started
        L = []
        trial = os.environ.get("BENCH_TRIAL") == "1"
        L.append(f"# s3mount cache-tier benchmark — {self.server}, scale {self.scale}, {now:%Y-%m-%d %H:%M}"
                 + (" — TRIAL (harness check, not a result)" if trial else ""))
        L.append("")
        bi = WB.WBench.binary_info(self)
        self.meta["binary"] = bi
        L.append(f"**s3mount binary measured**: `{self.cfg['s3mount_bin']}` (version {bi['version']}, sha256 "
                 f"{bi['bsha']}…, built {bi['mtime']}); "
                 + (f"built from commit **{bi['told']}** (as its builder says); " if bi["told"] else "")
                 + f"repository HEAD when the report was written **{bi['head'][:12]}** ({bi['subj']})"
                 + (f", with uncommitted changes in the work tree ({len(bi['dirty'])} paths under Sources/)"
                    if bi["dirty"] else ", clean work tree") + ".")
        L.append("")
        loads = [self.meta.get("load_start"), self.meta.get("load_end")]
        loaded = any(x and float(x.split()[0]) >= 3 for x in loads)
        L.append(f"Load average (1/5/15 min) at the start **{loads[0]}**, at the end **{loads[1] or '?'}**"
                 + (" — **taken on a loaded machine** (other builds and tests were running on its 2 cores): the "
                    "figures are lower and noisier than on a quiet one, the ratios less so (every column shares the load)."
                    if loaded else " (a quiet machine)."))
        L.append("")
        if trial:
            L += ["> **Trial run**: reduced size or a subset, to prove the harness. Do not quote these numbers.", ""]
        L.append(f"Data (bucket `{self.cfg['bucket']}`, prefix `{d.prefix}/`, bench.py's objects): **big object** "
                 f"{s['big'] // MiB} MiB read sequentially in 1 MiB reads (fio); **small files** {s['nfiles']} × "
                 f"{s['filesize'] // 1024} KiB read by {READERS} threads (open, read to EOF, close; bench.py's w3). "
                 f"Every cell is the **median of {self.runs} runs**. MB = 10^6 bytes, GB = 10^9 bytes.")
        L.append("")
        # ---- targets
        L.append("## Issue 9 targets (reported, not asserted)")
        L.append("")
        L.append("| target | measured | reference | ratio | goal | met |")
        L.append("|---|---|---|---|---|---|")
        for dset in self.sets:
            u = self.unit(dset)
            for col, ref, goal in (("e2", "local", 0.9), ("e1-on", "e1-off", 0.9)):
                v, r = self.med(dset, col, "value"), self.med(dset, ref, "value")
                if self.status(dset, col) == "FAILED":
                    v = None
                ratio = v / r if v and r else None
                L.append(f"| {SET_NAME[dset]}: {COLUMN_NAME[col]} vs {COLUMN_NAME[ref]} | {fmt(v, u)} {u} | "
                         f"{fmt(r, u)} {u} | {'—' if ratio is None else f'{ratio:.2f}'} | ≥ {goal:.2f} | "
                         + ("not measured" if ratio is None else ("yes" if ratio >= goal else "**no**")) + " |")
            runs = [r for r in self.runs_of(dset, "second") if r.get("status") == "ok"]
            gb = [r.get("s3_bytes") for r in runs if r.get("s3_bytes") is not None]
            dg = [r.get("daemon_gets") for r in runs if r.get("daemon_gets") is not None]
            gg = [r.get("s3_gets") for r in runs if r.get("s3_gets") is not None]
            worst = max(dg) if dg else None
            L.append(f"| {SET_NAME[dset]}: second mount's data GETs (highest of its runs) | daemon {fmt_int(worst)} "
                     f"GETs; gateway {fmt_int(max(gg) if gg else None)} GETs, {fmt_mib(max(gb) if gb else None)} MiB | "
                     f"{self.set_bytes(dset) / MiB:.1f} MiB read | — | 0 | "
                     + ("not measured" if worst is None else ("yes" if worst == 0 and (not gb or max(gb) == 0) else "**no**"))
                     + " |")
        L.append("")
        L.append("Daemon GETs = the GETs the second mount's own daemon sent (its `--stats-file` `gets`, data GETs "
                 "only); gateway = radosgw's `rgw.get` (GET-object operations, which in radosgw also counts HEADs) and "
                 "`rgw.get_b` (bytes sent for them) over the step, which also sees any other client of that gateway.")
        L.append("")
        # ---- the table
        L.append("## Throughput, daemon CPU and memory (median of runs)")
        L.append("")
        L.append("| data set | column | rate | MB/s | / local | / epoch 1 off | CPU s/GB | peak RSS MiB | S3 GET MiB | "
                 "S3 GETs (gateway) | daemon GETs | tier hit MiB | tier stored MiB | status |")
        L.append("|" + "---|" * 14)
        for dset in self.sets:
            u = self.unit(dset)
            lo, off = self.med(dset, "local", "value"), self.med(dset, "e1-off", "value")
            for col in COLUMNS:
                if not self.runs_of(dset, col):
                    continue
                g = lambda k: self.med(dset, col, k)  # noqa: E731
                v = g("value")
                L.append("| " + " | ".join([
                    SET_NAME[dset], COLUMN_NAME[col], f"{fmt(v, u)} {u}", fmt(g("mb_s"), "MB/s"),
                    f"{v / lo:.2f}" if v and lo else "—", f"{v / off:.2f}" if v and off and col != "local" else "—",
                    fmt(g("cpu_per_gb"), "s"), f"{g('rss_kib') / 1024:.0f}" if g("rss_kib") else "—",
                    fmt_mib(g("s3_bytes")), fmt_int(g("s3_gets")), fmt_int(g("daemon_gets")),
                    fmt_mib(g("tier_hit_bytes")), fmt_mib(g("tier_stored_bytes")),
                    self.status(dset, col) or "ok"]) + " |")
        L.append("")
        L.append("CPU s/GB = the daemon's utime+stime over the read (/proc/PID/stat) per GB read; peak RSS = its VmHWM at "
                 "the end of the read (peak since that mount); S3 GET MiB / GETs = the gateway's counters over the "
                 f"read ({self.witness.desc or 'no witness available'}); tier hit / stored MiB = the daemon's "
                 "`--stats-file` `cache_tier.hit_bytes` / `stored_bytes` over the read (stored blocks may land just "
                 "after the clock stops: epoch 1 waits for them before the second mount, see the notes).")
        L.append("")
        # ---- notes
        L.append("## How it was measured")
        L.append("")
        L.append("- Per run and data set, in this order: **local** — the same files on local disk, under "
                 f"`cache-local/` (same filesystem as the cache dir: {same_fs_note()}), page cache dropped; "
                 "**epoch 1 tier off** — a fresh mount with `--cache-size 0`; **epoch 1 tier on** — a fresh mount on an "
                 "empty cache dir (a fresh temp dir `cache-tier-XXXX/tier` beside it, removed after the set; "
                 + (f"`--cache-size {self.cfg['cache_size']}`" if self.cfg["cache_size"]
                    else "`--cache-size` left at its default, 10 % of the filesystem, at most 32 GiB") + "); odd runs "
                 "measure tier off first, even runs tier on first; **second mount** — while epoch 1's mount is still "
                 "up, another s3mount process on another mount point with the same cache dir, page cache dropped, the "
                 "same read; **epoch 2** — both unmounted, page cache dropped, a fresh mount on the warm cache dir; **epoch 3** "
                 "— right after in epoch 2's mount, nothing dropped: the page cache serves the bytes (the kernel keeps "
                 "a file's pages across opens), but every lookup, open and close still goes to the daemon, so it is the "
                 "ceiling of any read through this FUSE mount. "
                 "Every other FUSE read starts right after `echo 3 > /proc/sys/vm/drop_caches` on a mount whose only other "
                 "activity was a listing of its root, so the daemon's memory and the page cache (of the mount and of "
                 "the tier's files) are cold.")
        L.append(f"- Filesystem of the local copy and the cache dirs: {self.meta.get('fs', '?')}"
                 + (". BENCH_CACHE_FS=loop: an ext4 image of its own (`fallocate`d, `mkfs.ext4 -m 0 -E "
                    "lazy_itable_init=0,lazy_journal_init=0`, loop-mounted with the loop device's direct I/O on, so no "
                    "second page cache sits under the filesystem and no background initialisation writes during "
                    "the runs; at "
                    "`bench/work/cache-fs`, on the same virtual disk), because the root filesystem reserves most of "
                    "its free blocks for root, which puts it over the tier's 90 %-full mark (measured with f_bavail) "
                    "so that the tier stores nothing there; local copy and tier go through the same loop device, "
                    "its read_ahead_kb set to the disk's."
                    if LOOP else "."))
        L.append("- Every s3mount mount is `--read-only` (two read-write mounts of one bucket and prefix cannot share "
                 "a cache dir: each needs the write-back staging area to itself) with `--stats-file`; otherwise "
                 "defaults (block size, memory limit, read-ahead)" + (f" plus `{os.environ['BENCH_S3MOUNT_OPTS']}`"
                                                                       if os.environ.get("BENCH_S3MOUNT_OPTS") else "") + ".")
        L.append("- Checks: big object — sha256 of the object read again through the same mount right after the timed "
                 "read (the local copy: sha256 of every file at set-up); small files — every file's bytes from the "
                 "timed read hashed after the clock stops. A mismatch makes the cell FAILED.")
        L.append("- Known biases: (1) the server (Ceph OSD + radosgw), the FUSE daemons and the readers share "
                 f"{os.cpu_count()} cores, so S3 reads cost CPU the tier's reads do not. (2) The local copy, the cache "
                 "dir and the OSD's store share one virtual disk. (3) fio's bandwidth excludes the open; the small-file "
                 "rate is files / wall time of the 16 readers. (4) `drop_caches` empties the page cache but not the "
                 "disk's own cache below the VM, the same for the local and the tier columns.")
        notes = []
        for (dset, col), runs in self.results.items():
            for i, r in enumerate(runs):
                extra = [f"tier held {r['tier_total_stored'] / MiB:.1f} MiB {r['settle_s']:.1f} s after the clock"
                         ] if r.get("tier_total_stored") is not None else []
                if r.get("note") or r["status"] != "ok" or extra:
                    notes.append(f"  - {dset} {col} run {i + 1}: {r['status']} "
                                 + "; ".join(x for x in [r.get("note", "")] + extra if x))
        for dset in self.sets:
            du = [r["value"] for r in self.runs_of(dset, "tier_dir_bytes")]
            if du:
                L.append(f"- {SET_NAME[dset]}: the cache dir held {', '.join(f'{x / MiB:.1f}' for x in du)} MiB (per run) "
                         f"after epoch 2, for {self.set_bytes(dset) / MiB:.1f} MiB of data (block files with their "
                         "headers, the usage counter).")
        if notes:
            L.append("- Per-run notes:")
            L += notes
        L.append("")
        L.append("## All runs (rate)")
        L.append("")
        L.append("| data set | column | runs |")
        L.append("|---|---|---|")
        for (dset, col), runs in self.results.items():
            if col in COLUMNS:
                L.append(f"| {dset} | {col} | " + ", ".join(
                    (fmt(r.get("value"), self.unit(dset)) if r.get("value") is not None else "")
                    + ("" if r["status"] == "ok" else f" {r['status']}") for r in runs) + " |")
        L.append("")
        L.append("## Machine and versions")
        L.append("")
        mi = B.machine_info(self.server)
        mi["s3mount"] = f"{bi['version']} (the binary and its commit: see the top)"
        mi.pop("load at report time", None)
        L += [f"- {k}: {v}" for k, v in mi.items() if k not in ("s3fs", "rclone")]
        L.append("")
        L.append("## Exact commands")
        L.append("")
        L.append("```")
        L.append(f"# harness: BENCH_SUITE=cache BENCH_SERVER={self.server} BENCH_SCALE={self.scale} "
                 f"BENCH_RUNS={self.runs} bench/run.sh")
        for k, v in self.commands.items():
            L.append(f"# {k}\n{v}")
        L.append("```")
        text = "\n".join(L) + "\n"
        name = f"{self.server}-{now:%Y-%m-%d}-cache" + ("" if self.scale == "full" else f"-{self.scale}") \
            + (f"-{os.environ['BENCH_TAG']}" if os.environ.get("BENCH_TAG") else "")
        out = RESULTS / f"{name}.md"
        out.write_text(text)
        self.meta.update(commands=self.commands, wit_desc=self.witness.desc, started=self.started.isoformat())
        raw = {"_meta": self.meta}
        raw.update({f"{ds}|{c}": r for (ds, c), r in self.results.items()})
        (RESULTS / f"{name}.raw.json").write_text(json.dumps(raw, indent=1, default=str))
        print(text)
        log(f"report: {out}")
        return out


def fmt_mib(b):
    return "—" if b is None else f"{b / MiB:.1f}"


def fmt_int(n):
    return "—" if n is None else f"{n:.0f}"


def fs_note(path):
    s = os.statvfs(path)
    g = lambda n: f"{n * s.f_frsize / (1 << 30):.1f} GiB"  # noqa: E731
    return (f"{path}: {g(s.f_blocks)}, {g(s.f_bfree)} free, {g(s.f_bavail)} available to non-root (statvfs f_bavail: "
            f"{100 * (1 - s.f_bavail / s.f_blocks):.1f} % used by the tier's measure)")


def same_fs_note():
    try:
        a, b = os.stat(LOCAL_ROOT), os.stat(BASE)
        return "same device" if a.st_dev == b.st_dev else "**different devices**"
    except OSError:
        return "?"


def rerender(path):
    """`cache_bench.py report RAW.json`: the report again from a run's raw values (same environment)"""
    b = CBench()
    B.load_raw(b, path, 2)
    b.sets = [s for s in ALL_SETS if any(k[0] == s for k in b.results)]
    b.report()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "report":
        rerender(sys.argv[2])
        return
    B.run_to_the_end(CBench())


if __name__ == "__main__":
    main()
