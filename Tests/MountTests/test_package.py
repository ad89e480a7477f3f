"""The Debian package (make deb) installed with dpkg on this machine, used as an operator would: without the Swift
toolchain, mounted from an fstab through mount(8) with both type spellings, and removed without a trace.

Needs root (dpkg, mount) and S3MOUNT_DEB, the .deb to test (`make test-mount` builds it with `make deb` and sets it).
The package goes into the machine's real /usr/bin and /sbin, so the module holds a lock file for its whole run (no
two runs install at once), refuses to start when an s3mount package or /usr/bin/s3mount is already there, and
removes the package at the end whatever happened. Credentials reach the mount only through profile= and the AWS
files named by AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE (mount(8) passes the environment to its helpers but
drops PATH and HOME): none are in the fstab, none in the environment's AWS_ACCESS_KEY_ID.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import subprocess

import pytest

from conftest import UNMOUNT_DEADLINE, MiB, det_bytes, is_mounted, live_daemons, mount_fstype, wait_until

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOCK = "/tmp/s3mount-package-test.lock"
PROFILE = "pkgtest"
# The node's PATH: no /opt/swift, no /usr/local
NODE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def run(argv: list[str], env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)


def package_installed() -> bool:
    r = run(["dpkg-query", "-W", "-f=${Status}", "s3mount"])
    return r.returncode == 0 and "installed" in r.stdout.split()


def released_version() -> str:
    with open(os.path.join(REPO, "Sources/s3mount/BuildInfo.swift")) as f:
        return re.search(r'static let version = "([^"]+)"', f.read()).group(1)


def head_commit() -> str:
    return run(["git", "-C", REPO, "rev-parse", "--short=7", "HEAD"]).stdout.strip()


def node_env(env, config_dir: str) -> dict[str, str]:
    """The environment of an operator's root shell on a node: no toolchain on PATH or in the library path, no
    AWS keys, the AWS files of the test profile."""
    out = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("LD_LIBRARY_PATH", "S3_ENDPOINTS", "S3_TEST_ENDPOINT")}
    out.update(PATH=NODE_PATH, AWS_SHARED_CREDENTIALS_FILE=os.path.join(config_dir, "credentials"),
               AWS_CONFIG_FILE=os.path.join(config_dir, "config"))
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The package, installed with dpkg -i for this module; removed (dpkg -r) at the end, even after a failure."""
    if os.geteuid() != 0:
        pytest.fail("test_package.py installs a .deb and mounts through mount(8): run it as root", pytrace=False)
    deb = os.environ.get("S3MOUNT_DEB", "")
    if not os.path.isfile(deb):
        pytest.fail(f"S3MOUNT_DEB={deb!r} is not a file: build the package (make deb) and set S3MOUNT_DEB to "
                    "dist/s3mount_<version>_<arch>.deb (make test-mount does both)", pytrace=False)
    lock = open(LOCK, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        if package_installed() or os.path.lexists("/usr/bin/s3mount"):
            pytest.fail("an s3mount package or /usr/bin/s3mount is already on this machine; this test installs and "
                        "removes its own, so it will not touch that one (dpkg -r s3mount first)", pytrace=False)
        try:
            r = run(["dpkg", "-i", deb])
            if r.returncode != 0:
                # Depends not installed: let apt bring them (and configure the package)
                fix = run(["apt-get", "install", "-f", "-y", "-q", "--no-install-recommends"], timeout=600)
                assert fix.returncode == 0 and package_installed(), \
                    f"dpkg -i {deb} failed and apt-get install -f did not fix it:\n{r.stderr}\n{fix.stderr}"
            files = run(["dpkg-query", "-L", "s3mount"]).stdout.split()
            yield [f for f in files if not os.path.isdir(f)]  # its files; /sbin (a link to usr/sbin) is a directory
        finally:
            if package_installed():
                run(["dpkg", "-r", "s3mount"])
            assert not package_installed(), "dpkg -r s3mount failed: remove it by hand"
            assert not os.path.lexists("/usr/bin/s3mount"), "/usr/bin/s3mount is still there after dpkg -r"
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


@pytest.fixture(scope="module")
def aws_files(tmp_path_factory, env) -> str:
    """A directory with `credentials` and `config` holding the testbed's keys under the profile pkgtest."""
    d = tmp_path_factory.mktemp("aws")
    (d / "credentials").write_text(
        f"[{PROFILE}]\naws_access_key_id = {env.access_key}\naws_secret_access_key = {env.secret_key}\n")
    (d / "config").write_text(f"[profile {PROFILE}]\nregion = {env.region}\n")
    os.chmod(d / "credentials", 0o600)
    return str(d)


@pytest.fixture(scope="module")
def payload(s3, env, prefix) -> tuple[str, str]:
    """(key under the session prefix, sha256) of an object that spans several blocks."""
    key = prefix + "package/data.bin"
    data = det_bytes("package", 9 * MiB + 123)
    s3.put_object(Bucket=env.bucket, Key=key, Body=data)
    return key, hashlib.sha256(data).hexdigest()


def test_binary_runs_without_the_toolchain(installed, env, aws_files):
    ldd = run(["ldd", "/usr/bin/s3mount"], env=node_env(env, aws_files))
    assert ldd.returncode == 0, ldd.stderr
    assert "/opt/swift" not in ldd.stdout and "not found" not in ldd.stdout, ldd.stdout
    r = run(["s3mount", "--version"], env=node_env(env, aws_files))
    assert r.returncode == 0, r.stderr
    want = rf"^{re.escape(released_version())} \(commit {re.escape(head_commit())}(-dirty)?\)$"
    assert re.match(want, r.stdout.strip()), f"s3mount --version printed {r.stdout!r}, want {want}"


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MiB), b""):
            h.update(chunk)
    return h.hexdigest()


def mount_flags(path: str) -> set[str]:
    """The per-mount flags (ro, noexec, nosuid, …) of the last mount on path."""
    flags: set[str] = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == os.path.realpath(path):
                flags = set(fields[5].split(","))
    return flags


def wait_unmounted(path: str) -> None:
    assert wait_until(lambda: not is_mounted(path), 10), f"{path} is still mounted after umount"
    assert wait_until(lambda: not live_daemons(path), UNMOUNT_DEADLINE), f"s3mount for {path} outlived umount"


@pytest.mark.parametrize("fstype", ["s3mount", "fuse.s3mount"])
def test_fstab_mounts_with_mount_a_and_by_mountpoint(installed, env, aws_files, payload, mounter, tmp_path, fstype):
    key, digest = payload
    prefix, name = key.rsplit("/", 1)
    data, skipped = mounter.mountpoint(), mounter.mountpoint()
    cache = mounter.cache_dir()
    options = (f"_netdev,nofail,ro,noexec,endpoint={env.endpoint},profile={PROFILE},cache_dir={cache},"
               "x-systemd.mount-timeout=30,comment=test,defaults,nodev,nosuid,relatime")
    fstab = tmp_path / "fstab"
    fstab.write_text(
        f"{env.bucket}:{prefix} {data} {fstype} {options} 0 0\n"
        f"{env.bucket}:{prefix} {skipped} {fstype} noauto,{options} 0 0\n")
    node = node_env(env, aws_files)

    r = run(["mount", "-T", str(fstab), "-a"], env=node)
    assert r.returncode == 0, f"mount -a: exit {r.returncode}: {r.stderr}"
    assert mount_fstype(data) == "fuse.s3mount", f"mount -a did not mount {data}: {r.stderr}"
    assert not is_mounted(skipped), "mount -a mounted the noauto line"
    assert {"ro", "noexec", "nosuid", "nodev"} <= mount_flags(data), mount_flags(data)
    assert sha256_of(os.path.join(data, name)) == digest
    r = run(["umount", data], env=node)
    assert r.returncode == 0, f"umount {data}: {r.stderr}"
    wait_unmounted(data)

    r = run(["mount", "-T", str(fstab), data], env=node)
    assert r.returncode == 0, f"mount {data}: exit {r.returncode}: {r.stderr}"
    assert sha256_of(os.path.join(data, name)) == digest
    r = run(["umount", data], env=node)
    assert r.returncode == 0, f"umount {data}: {r.stderr}"
    wait_unmounted(data)


def test_fstab_unknown_option_fails_with_one_line(installed, env, aws_files, mounter, tmp_path):
    data = mounter.mountpoint()
    fstab = tmp_path / "fstab"
    fstab.write_text(f"{env.bucket} {data} s3mount _netdev,endpoint={env.endpoint},no_such_option=1 0 0\n")
    r = run(["mount", "-T", str(fstab), data], env=node_env(env, aws_files), timeout=30)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "no-such-option" in lines[0], r.stderr
    assert not is_mounted(data)


def test_man_page_and_completions(installed, env, aws_files):
    r = run(["man", "-w", "s3mount"], env=node_env(env, aws_files))
    assert r.returncode == 0 and r.stdout.strip() == "/usr/share/man/man1/s3mount.1.gz", (r.stdout, r.stderr)
    rendered = run(["man", "-P", "cat", "s3mount"], env=dict(node_env(env, aws_files), MANWIDTH="120"))
    assert "--wait-for-endpoints" in rendered.stdout, rendered.stdout[:2000]
    r = run(["bash", "-c", "source /usr/share/bash-completion/completions/s3mount && complete -p s3mount"])
    assert r.returncode == 0 and "s3mount" in r.stdout, (r.stdout, r.stderr)
    for path in ("/usr/share/zsh/vendor-completions/_s3mount", "/usr/share/fish/vendor_completions.d/s3mount.fish"):
        with open(path) as f:
            assert "wait-for-endpoints" in f.read(), path


def test_dpkg_remove_leaves_nothing(installed):
    assert "/usr/bin/s3mount" in installed and "/sbin/mount.s3mount" in installed, installed
    r = run(["dpkg", "-r", "s3mount"])
    assert r.returncode == 0, r.stderr
    assert not package_installed()
    left = [f for f in installed if os.path.lexists(f)]
    assert left == [], f"dpkg -r left {left}"


def test_lintian_reports_no_errors():
    deb = os.environ.get("S3MOUNT_DEB", "")
    assert os.path.isfile(deb), f"S3MOUNT_DEB={deb!r} is not a file (make deb)"
    r = run(["lintian", "--no-tag-display-limit", deb], timeout=300)
    errors = [ln for ln in r.stdout.splitlines() if ln.startswith("E:")]
    assert errors == [] and r.returncode == 0, \
        f"lintian exited {r.returncode}; errors:\n" + "\n".join(errors) + "\n" + r.stderr
