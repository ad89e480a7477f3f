"""TLS, end to end: real mounts of the testbed's https gateway (S3_TLS_ENDPOINT, a certificate for 127.0.0.1 from
the testbed's own CA, S3_TLS_CA). Certificates are verified by default; --ca-bundle or AWS_CA_BUNDLE give the CA;
a refused certificate fails the mount fast with one line naming TLS verification and the fix, never as
"unreachable"; --insecure-skip-tls-verify mounts and logs one warning naming the risk. Every byte read is checked
by sha256.

This machine's environment sets AWS_CA_BUNDLE to the system store, so every run here sets or removes it itself."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time

import pytest

from conftest import Mounter, mount_fstype, put_many
from test_cli_errors import QUICK, check_failure, check_nothing_mounted

MiB = 1024 * 1024
SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"
REFUSED = "TLS verification of "
FIX = "--ca-bundle FILE or AWS_CA_BUNDLE=FILE"


@pytest.fixture(scope="module")
def tls(env):
    endpoint, ca = os.environ.get("S3_TLS_ENDPOINT"), os.environ.get("S3_TLS_CA")
    if not endpoint or not ca or not os.path.isfile(ca):
        pytest.fail("S3_TLS_ENDPOINT / S3_TLS_CA missing from the environment: the testbed has no https gateway; "
                    "run scripts/testbed/ceph.sh start and eval its env", pytrace=False)
    return endpoint, ca


@pytest.fixture(scope="module")
def objects(s3, env, prefix, tls):
    """tls/big.bin (3 MiB + 7) and tls/small.txt, written over https with boto3 verifying against the testbed CA
    (the gateway serves a certificate its CA signed), with their sha256."""
    import boto3
    from botocore.config import Config

    endpoint, ca = tls
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=env.access_key,
                          aws_secret_access_key=env.secret_key, region_name=env.region, verify=ca,
                          # Ceph 16 refuses the aws-chunked checksum trailers botocore sends over https by default
                          config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required"))
    items = {f"{prefix}tls/big.bin": os.urandom(3 * MiB + 7), f"{prefix}tls/small.txt": b"over https\n"}
    put_many(client, env.bucket, items, threads=2)
    return {k.rsplit("/", 1)[1]: hashlib.sha256(v).hexdigest() for k, v in items.items()}


def child_env(env, ca_bundle: str | None) -> dict[str, str]:
    e = env.child_env()
    e.pop("AWS_CA_BUNDLE", None)
    if ca_bundle is not None:
        e["AWS_CA_BUNDLE"] = ca_bundle
    return e


def try_mount(mounter: Mounter, env, prefix: str, endpoints: list[str], *options: str, ca_env: str | None = None):
    """Run s3mount on the tls/ prefix; return (completed process, mountpoint, seconds taken)."""
    mp = mounter.mountpoint()
    args = [*options]
    for endpoint in endpoints:
        args += ["--endpoint", endpoint]
    args += [f"{env.bucket}:{prefix}tls", mp]
    t0 = time.monotonic()
    r = mounter.run(args, env=child_env(env, ca_env))
    return r, mp, time.monotonic() - t0


def mounted(r, mp: str) -> str:
    assert r.returncode == 0, f"s3mount exited {r.returncode}: {r.stderr.strip()}"
    assert mount_fstype(mp) == "fuse.s3mount", f"s3mount exited 0 but {mp} is not mounted"
    return mp


def sha256_of(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_bytes(mp: str, objects: dict[str, str]) -> None:
    assert set(objects) <= set(os.listdir(mp))
    for name, digest in objects.items():
        assert sha256_of(os.path.join(mp, name)) == digest, f"{name}: wrong bytes over https"


def check_refused(r, t: float, mp: str, trusted: str) -> None:
    check_failure(r, t, 1, [REFUSED, "certificate failed", f"checked against {trusted}", FIX])
    assert "unreachable" not in r.stderr and "no endpoint answered" not in r.stderr, r.stderr
    check_nothing_mounted(mp)


def make_other_ca(directory) -> str:
    """A self-signed CA that signed nothing the testbed serves."""
    key, pem = os.path.join(directory, "other-ca.key"), os.path.join(directory, "other-ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=not the testbed CA",
                    "-addext", "basicConstraints=critical,CA:TRUE", "-keyout", key, "-out", pem],
                   check=True, capture_output=True, timeout=60)
    return pem


# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ca_env", [None, SYSTEM_CAS], ids=["no-AWS_CA_BUNDLE", "AWS_CA_BUNDLE=system"])
def test_verified_by_default(mounter, env, prefix, tls, objects, ca_env):
    """Without the testbed CA the certificate is refused: one line naming TLS verification, the CAs used and the
    fix, fast, exit 1, nothing mounted."""
    r, mp, t = try_mount(mounter, env, prefix, [tls[0]], ca_env=ca_env)
    check_refused(r, t, mp, "the system's CAs" if ca_env is None else f"CAs from {SYSTEM_CAS}")
    assert tls[0] in r.stderr


def test_ca_bundle_mounts_reads_and_writes(mounter, s3, env, prefix, tls, objects, tmp_path):
    log = str(tmp_path / "ca.log")
    r, mp, _ = try_mount(mounter, env, prefix, [tls[0]], "--ca-bundle", tls[1], "--log-file", log)
    check_bytes(mounted(r, mp), objects)
    # a write goes up over https too (PUT on close, then fsync waits for S3)
    data = os.urandom(MiB + 3)
    with open(os.path.join(mp, "written.bin"), "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    got = s3.get_object(Bucket=env.bucket, Key=f"{prefix}tls/written.bin")["Body"].read()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(data).hexdigest()
    with open(log) as f:
        warnings = [ln for ln in f if " warning " in ln]
    assert warnings == [], f"a verified https mount logged warnings: {warnings}"


def test_aws_ca_bundle_works_like_ca_bundle(mounter, env, prefix, tls, objects):
    r, mp, _ = try_mount(mounter, env, prefix, [tls[0]], ca_env=tls[1])
    check_bytes(mounted(r, mp), objects)


def test_ca_bundle_flag_wins_over_aws_ca_bundle(mounter, env, prefix, tls, objects, tmp_path):
    r, mp, _ = try_mount(mounter, env, prefix, [tls[0]], "--ca-bundle", tls[1], ca_env=make_other_ca(str(tmp_path)))
    check_bytes(mounted(r, mp), objects)


def test_wrong_ca_is_refused(mounter, env, prefix, tls, objects, tmp_path):
    other = make_other_ca(str(tmp_path))
    r, mp, t = try_mount(mounter, env, prefix, [tls[0]], "--ca-bundle", other)
    check_refused(r, t, mp, f"CAs from {other}")
    r, mp, t = try_mount(mounter, env, prefix, [tls[0]], ca_env=other)
    check_refused(r, t, mp, f"CAs from {other}")


def test_refused_certificate_on_every_endpoint_is_not_unreachable(mounter, env, prefix, tls, objects):
    """Two names of the https gateway (both in its certificate), no CA for it, and --wait-for-endpoints: waiting
    cannot fix a certificate, so the mount fails at once with the TLS line, not after 60 s as "no endpoint"."""
    port = tls[0].rsplit(":", 1)[1]
    r, mp, t = try_mount(mounter, env, prefix, [tls[0], f"https://localhost:{port}"], "--wait-for-endpoints", "60")
    check_refused(r, t, mp, "the system's CAs")


def test_unreadable_ca_bundle(mounter, env, prefix, tls, tmp_path):
    missing = str(tmp_path / "no-such-ca.pem")
    r, mp, t = try_mount(mounter, env, prefix, [tls[0]], ca_env=missing)
    check_failure(r, t, 1, [f"cannot read the CA bundle {missing} (from AWS_CA_BUNDLE)", "give a readable PEM file"])
    check_nothing_mounted(mp)


def test_https_to_a_plain_http_port(mounter, env, prefix, tls):
    r, mp, t = try_mount(mounter, env, prefix, [env.endpoint.replace("http://", "https://")], "--ca-bundle", tls[1])
    check_failure(r, t, 1, ["TLS handshake with", "check that the server serves https on that port"])
    check_nothing_mounted(mp)


def test_insecure_skip_tls_verify_mounts_and_warns_once(mounter, env, prefix, tls, objects, tmp_path):
    log = str(tmp_path / "insecure.log")
    r, mp, _ = try_mount(mounter, env, prefix, [tls[0]], "--insecure-skip-tls-verify", "--log-file", log)
    check_bytes(mounted(r, mp), objects)
    with open(log) as f:
        warnings = [ln for ln in f if " warning " in ln]
    assert len(warnings) == 1, f"want one warning, got {warnings}"
    assert "TLS certificates are not verified (--insecure-skip-tls-verify)" in warnings[0]
    assert "pose as the server" in warnings[0] and tls[0] in warnings[0]


def test_loopback_http_with_credentials_does_not_warn(mounter, env, prefix, tls, objects, tmp_path):
    """The documented rule: plain http:// is warned about only off this machine (the testbed is 127.0.0.1). The
    warning's text for other hosts is covered by S3MountCLITests/TransportSecurityTests."""
    log = str(tmp_path / "loopback.log")
    r, mp, _ = try_mount(mounter, env, prefix, [env.endpoint], "--log-file", log)
    check_bytes(mounted(r, mp), objects)
    with open(log) as f:
        text = f.read()
    assert "plain http://" not in text and " warning " not in text, text
