"""Shared fixtures for the mounted s3mount tests.

The suite mounts the release binary ($S3MOUNT_BIN) against the local S3 testbed (the Ceph RADOS gateway started by
scripts/testbed/ceph.sh; its env file exports AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
S3_BUCKET). Everything it uploads lives under one random prefix `mt-<uuid>/`; a module's objects are deleted when
the module ends, the session fixtures' (`sizes/`) at the end of the session.

Run: make test-mount, or
    eval "$(scripts/testbed/ceph.sh env)"; S3MOUNT_BIN=$PWD/.build/release/s3mount python3 -m pytest -q Tests/MountTests

A missing binary or S3 env is a failure, never a skip (in CI a skipped suite would hide that nothing ran).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import errno
import hashlib
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field

import pytest

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

MOUNT_TIMEOUT = 60  # bound for `s3mount` (daemon mode) to report a verdict
UNMOUNT_DEADLINE = 20  # bound for the daemon to exit after its mount is gone

REQUIRED_ENV = ("S3MOUNT_BIN", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "S3_BUCKET")


# ----------------------------------------------------------------------------------------------------------------
# environment


@dataclass(frozen=True)
class Env:
    binary: str
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    region: str

    def child_env(self, **overrides: str) -> dict[str, str]:
        """The environment for an s3mount child: the testbed credentials and nothing from ~/.aws. Instance
        metadata is disabled, so a child that finds no credentials never probes 169.254.169.254."""
        env = dict(os.environ)
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID=self.access_key,
            AWS_SECRET_ACCESS_KEY=self.secret_key,
            AWS_REGION=self.region,
            AWS_DEFAULT_REGION=self.region,
            AWS_EC2_METADATA_DISABLED="true",
        )
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
                     "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                     "AWS_EC2_METADATA_SERVICE_ENDPOINT"):
            env.pop(name, None)
        env.update(overrides)
        return env


def _load_env() -> Env:
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        pytest.fail(
            "Tests/MountTests need " + ", ".join(missing) + " in the environment. Run `make test-mount`, or: "
            'eval "$(scripts/testbed/ceph.sh env)"; S3MOUNT_BIN=$PWD/.build/release/s3mount '
            "python3 -m pytest -q Tests/MountTests",
            pytrace=False,
        )
    binary = os.environ["S3MOUNT_BIN"]
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        pytest.fail(f"S3MOUNT_BIN={binary} is not an executable file (build it: swift build -c release)", pytrace=False)
    endpoint = os.environ["AWS_ENDPOINT_URL"].rstrip("/")
    host = urllib.parse.urlsplit(endpoint).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        pytest.fail(f"AWS_ENDPOINT_URL={endpoint}: the mounted tests only talk to a local testbed (127.0.0.1)",
                    pytrace=False)
    if not shutil.which("fusermount3"):
        pytest.fail("fusermount3 is not installed (apt-get install fuse3)", pytrace=False)
    if not os.path.exists("/dev/fuse"):
        pytest.fail("/dev/fuse is missing: the mounted tests need FUSE", pytrace=False)
    return Env(
        binary=binary,
        endpoint=endpoint,
        access_key=os.environ["AWS_ACCESS_KEY_ID"],
        secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        bucket=os.environ["S3_BUCKET"],
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
    )


def pytest_sessionstart(session):
    """Stop the whole run with one clear message (exit 1, not a skip) when the binary or the S3 env is missing."""
    try:
        _load_env()
    except pytest.fail.Exception as e:
        pytest.exit(f"Tests/MountTests cannot run: {e.msg}", returncode=1)


@pytest.fixture(scope="session")
def env() -> Env:
    return _load_env()


@pytest.fixture(scope="session")
def s3(env: Env):
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=env.endpoint,
        aws_access_key_id=env.access_key,
        aws_secret_access_key=env.secret_key,
        region_name=env.region,
        config=Config(max_pool_connections=48, s3={"addressing_style": "path"},
                      retries={"max_attempts": 5, "mode": "standard"}),
    )
    try:
        client.head_bucket(Bucket=env.bucket)
    except Exception as e:  # noqa: BLE001 - any failure here means the testbed is not usable
        pytest.fail(f"bucket {env.bucket!r} at {env.endpoint} is not reachable ({e}); start the testbed: "
                    "scripts/testbed/ceph.sh start", pytrace=False)
    return client


@pytest.fixture(scope="session")
def prefix(s3, env: Env):
    """The session's own prefix `mt-<uuid>/`; every object under it is deleted at the end, and every multipart
    upload under it aborted."""
    p = f"mt-{uuid.uuid4().hex[:12]}/"
    _session_store.update(s3=s3, bucket=env.bucket, prefix=p)
    yield p
    _session_store.clear()
    abort_multipart_uploads(s3, env.bucket, p)
    delete_prefix(s3, env.bucket, p)


# the session prefix's client, bucket and name once a test asked for it (hostile-server modules never do)
_session_store: dict = {}
SESSION_OWNED = ("sizes/",)  # the session fixtures' objects, kept until the session ends


@pytest.fixture(scope="module", autouse=True)
def module_objects_deleted():
    """What a test module uploaded is deleted when the module ends, not at the end of the session: the suite writes
    tens of GiB in all, and the testbed's OSD (CI: 14 GiB) holds only a few modules' worth at once."""
    yield
    if not _session_store:
        return
    s3, bucket, p = _session_store["s3"], _session_store["bucket"], _session_store["prefix"]
    abort_multipart_uploads(s3, bucket, p)
    delete_prefix(s3, bucket, p, keep=tuple(p + owned for owned in SESSION_OWNED))


def delete_prefix(s3, bucket: str, prefix: str, keep: tuple[str, ...] = ()) -> None:
    """Delete every object under prefix but those whose key starts with one of keep."""
    paginator = s3.get_paginator("list_objects_v2")
    batch: list[dict] = []
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].startswith(keep):
                continue
            batch.append({"Key": obj["Key"]})
            if len(batch) == 1000:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
                batch = []
    if batch:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})


def abort_multipart_uploads(s3, bucket: str, prefix: str) -> None:
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=prefix):
        for upload in page.get("Uploads", []):
            with contextlib.suppress(Exception):
                s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])


def list_keys(s3, bucket: str, prefix: str) -> dict[str, str]:
    """key -> ETag of every object under prefix."""
    out: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = obj["ETag"]
    return out


def put_many(s3, bucket: str, items: dict[str, bytes], threads: int = 32) -> None:
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        for f in [pool.submit(s3.put_object, Bucket=bucket, Key=k, Body=v) for k, v in items.items()]:
            f.result()


# ----------------------------------------------------------------------------------------------------------------
# deterministic data


def det_bytes(seed: str, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


def write_det_file(path: str, seed: str, size: int, chunk: int = 64 * MiB) -> str:
    """Write `size` deterministic pseudo-random bytes to path; return their sha256."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        done, i = 0, 0
        while done < size:
            n = min(chunk, size - done)
            b = det_bytes(f"{seed}/{i}", n)
            f.write(b)
            h.update(b)
            done += n
            i += 1
    return h.hexdigest()


def sha256_file(path: str, bufsize: int = 4 * MiB) -> str:
    h = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        while True:
            b = f.read(bufsize)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


@dataclass(frozen=True)
class SourceFile:
    key: str  # full key in the bucket
    rel: str  # path relative to the session prefix
    local: str  # the uploaded bytes, on local disk
    size: int
    sha256: str


SIZES = {
    "empty": 0,
    "one": 1,
    "4k": 4 * KiB,
    "1m1": MiB + 1,
    "64m": 64 * MiB,
    "1g": GiB,
}


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def sized_files(s3, env: Env, prefix: str, data_dir: str) -> dict[str, SourceFile]:
    """sizes/<name>.bin for each entry of SIZES, uploaded with boto3 upload_file (multipart above 8 MiB)."""
    from boto3.s3.transfer import TransferConfig

    cfg = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=32 * MiB, max_concurrency=8)
    out: dict[str, SourceFile] = {}
    for name, size in SIZES.items():
        local = os.path.join(data_dir, f"{name}.bin")
        digest = write_det_file(local, f"sized/{name}", size)
        rel = f"sizes/{name}.bin"
        s3.upload_file(local, env.bucket, prefix + rel, Config=cfg)
        out[name] = SourceFile(prefix + rel, rel, local, size, digest)
    return out


# ----------------------------------------------------------------------------------------------------------------
# mounts


def mountinfo() -> list[tuple[str, str]]:
    """(mount point, fs type) of every mount in /proc/self/mountinfo, with the octal escapes decoded."""
    out = []
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            left, _, right = line.decode("latin-1").rstrip("\n").partition(" - ")
            raw = left.split(" ")[4]
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), raw)
            point = point.encode("latin-1", "surrogateescape").decode("utf-8", "surrogateescape")
            out.append((point, right.split(" ")[0]))
    return out


def is_mounted(path: str) -> bool:
    path = os.path.realpath(path)
    return any(p == path for p, _ in mountinfo())


def mount_fstype(path: str) -> str | None:
    path = os.path.realpath(path)
    types = [t for p, t in mountinfo() if p == path]
    return types[-1] if types else None


def wait_until(cond, timeout: float, interval: float = 0.05) -> bool:
    """Poll cond() until it is true or timeout seconds passed; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() >= deadline:
            return bool(cond())
        time.sleep(interval)


def live_daemons(mountpoint: str) -> list[int]:
    """PIDs of live (not zombie) s3mount processes whose command line names mountpoint."""
    mountpoint = os.path.realpath(mountpoint)
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = [a.decode("utf-8", "surrogateescape") for a in f.read().split(b"\0") if a]
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        if not argv or "s3mount" not in os.path.basename(argv[0]):
            continue
        state = stat.rsplit(")", 1)[1].split()[0]
        if state in ("Z", "X"):
            continue  # orphaned daemons stay zombies under this container's PID 1, which does not reap
        if any(a == mountpoint or os.path.realpath(a) == mountpoint for a in argv[1:] if a.startswith("/")):
            pids.append(int(d))
    return pids


def unmount(path: str) -> None:
    """Unmount path if mounted: fusermount3 -u, falling back to umount -l."""
    if not is_mounted(path):
        return
    r = subprocess.run(["fusermount3", "-u", path], capture_output=True, text=True, timeout=30)
    if r.returncode != 0 and is_mounted(path):
        subprocess.run(["umount", "-l", path], capture_output=True, text=True, timeout=30)


def zombie_exit_status(pid: int) -> int | None:
    """The wait status of a zombie (an exited daemon nobody reaped: /proc/PID/stat field 52), else None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().decode("utf-8", "replace").rsplit(")", 1)[1].split()
    except OSError:
        return None
    if fields[0] != "Z" or len(fields) < 50:
        return None
    return int(fields[-1])


def describe_exit(status: int) -> str | None:
    """None for a clean exit (status 0); else how the process ended."""
    if status & 0x7F:
        sig = status & 0x7F
        return f"was killed by signal {sig} ({signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else '?'})"
    if status >> 8:
        return f"exited with status {status >> 8}"
    return None


def cleanup_mountpoint(path: str, expect_clean_exit: bool = True) -> list[str]:
    """Unmount, wait for the daemon to exit; kill a daemon that outlives its mount. Return the problems seen,
    including a daemon that crashed (a zombie with a signal or non-zero status: PID 1 here does not reap)."""
    problems = []
    before = live_daemons(path)
    unmount(path)
    if is_mounted(path):
        problems.append(f"{path} is still mounted after fusermount3 -u and umount -l")
    if not wait_until(lambda: not live_daemons(path), UNMOUNT_DEADLINE):
        pids = live_daemons(path)
        problems.append(f"s3mount daemon(s) {pids} for {path} still running {UNMOUNT_DEADLINE}s after unmount")
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if expect_clean_exit:
        for pid in before:
            status = zombie_exit_status(pid)
            how = describe_exit(status) if status is not None else None
            if how:
                problems.append(f"s3mount daemon {pid} for {path} {how} when unmounted")
    return problems


@dataclass
class Mount:
    path: str
    args: list[str]
    result: subprocess.CompletedProcess | None = None
    problems: list[str] = field(default_factory=list)

    def p(self, *parts: str) -> str:
        return os.path.join(self.path, *parts)

    def unmount(self) -> None:
        self.problems += cleanup_mountpoint(self.path)


class Mounter:
    """Creates mountpoints under a temp dir and runs s3mount; unmounts everything it mounted at teardown."""

    def __init__(self, env: Env, base: str):
        self.env = env
        self.base = base
        self.mountpoints: list[str] = []
        self._cache_dir: str | None = None

    def cache_dir(self) -> str:
        """This mounter's own staging root, given to every s3mount it runs that names none (--cache-dir): the
        default (/var/cache/s3mount for root) would be shared with every other run on the machine."""
        if self._cache_dir is None:
            self._cache_dir = tempfile.mkdtemp(prefix="cache-", dir=self.base)
        return self._cache_dir

    def mountpoint(self) -> str:
        path = tempfile.mkdtemp(prefix="mnt-", dir=self.base)
        self.mountpoints.append(path)
        return path

    def run(self, args: list[str], timeout: float = MOUNT_TIMEOUT, env: dict | None = None,
            ) -> subprocess.CompletedProcess:
        """Run s3mount with args (daemon mode unless args say otherwise); return the completed process."""
        if not any(a == "--cache-dir" or a.startswith("--cache-dir=") for a in args):
            args = ["--cache-dir", self.cache_dir(), *args]
        # The cache tier is on by default (10 % of the filesystem); a test's own cache stays small, and goes at cleanup.
        if not any(a == "--cache-size" or a.startswith("--cache-size=") for a in args):
            args = ["--cache-size", "1G", *args]
        # stdin/stdout/stderr are files, not pipes a daemon could keep open: the verdict must come from the exit.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.run([self.env.binary, *args], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                               env=env or self.env.child_env(), timeout=timeout)
            out.seek(0)
            err.seek(0)
            p.stdout = out.read().decode("utf-8", "replace")
            p.stderr = err.read().decode("utf-8", "replace")
        return p

    def mount(self, spec: str, *options: str, mountpoint: str | None = None, endpoint: bool = True) -> Mount:
        """Mount spec (BUCKET[:PREFIX]) in daemon mode; fail the test unless s3mount exits 0 with a live mount."""
        path = mountpoint or self.mountpoint()
        if mountpoint and path not in self.mountpoints:
            self.mountpoints.append(path)
        args = [*options]
        if endpoint:
            args += ["--endpoint", self.env.endpoint]
        args += [spec, path]
        r = self.run(args)
        m = Mount(path, args, r)
        assert r.returncode == 0, f"s3mount {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}"
        assert mount_fstype(path) == "fuse.s3mount", f"s3mount exited 0 but {path} is not a fuse.s3mount mount"
        return m

    def cleanup(self) -> list[str]:
        problems = []
        for path in self.mountpoints:
            problems += cleanup_mountpoint(path)
            with contextlib.suppress(OSError):
                os.rmdir(path)
        self.mountpoints.clear()
        if self._cache_dir is not None:
            shutil.rmtree(os.path.join(self._cache_dir, "blocks"), ignore_errors=True)
        return problems


def live_daemons_under(base: str) -> list[int]:
    """PIDs of live s3mount processes with an argument under the directory base."""
    base = os.path.realpath(base) + os.sep
    out = []
    for d in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                argv = [a.decode("utf-8", "surrogateescape") for a in f.read().split(b"\0") if a]
        except OSError:
            continue
        if argv and "s3mount" in os.path.basename(argv[0]) and any(a.startswith(base) for a in argv[1:]):
            with contextlib.suppress(OSError), open(f"/proc/{d}/stat", "rb") as f:
                if f.read().decode("utf-8", "replace").rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                    out.append(int(d))
    return out


@pytest.fixture(scope="session")
def mount_base(tmp_path_factory):
    """All mountpoints live under this directory. At the end of the session nothing may be mounted under it and
    no s3mount process may be left for it."""
    base = str(tmp_path_factory.mktemp("mnt"))
    yield base
    problems = []
    for point, fstype in mountinfo():
        if point.startswith(base + os.sep):
            problems.append(f"{point} ({fstype}) still mounted at the end of the session")
            problems += cleanup_mountpoint(point, expect_clean_exit=False)
    if not wait_until(lambda: not live_daemons_under(base), UNMOUNT_DEADLINE):
        pids = live_daemons_under(base)
        problems.append(f"s3mount processes {pids} left running at the end of the session")
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    if problems:
        pytest.fail("session teardown: " + "; ".join(problems), pytrace=False)


@pytest.fixture
def mounter(env: Env, mount_base: str):
    """Function-scoped: everything mounted through it is unmounted (and its daemon gone) after the test."""
    m = Mounter(env, mount_base)
    yield m
    problems = m.cleanup()
    if problems:
        pytest.fail("teardown: " + "; ".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def module_mounter(env: Env, mount_base: str):
    m = Mounter(env, mount_base)
    yield m
    problems = m.cleanup()
    if problems:
        pytest.fail("teardown: " + "; ".join(problems), pytrace=False)


def expect_errno(code: int, fn, *args, **kwargs) -> OSError:
    with pytest.raises(OSError) as info:
        fn(*args, **kwargs)
    assert info.value.errno == code, (
        f"{getattr(fn, '__name__', fn)}{args}: expected {errno.errorcode[code]}, got "
        f"{errno.errorcode.get(info.value.errno, info.value.errno)} ({info.value})")
    return info.value
