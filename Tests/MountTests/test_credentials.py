"""The AWS credential chain, mounted (issue 13 "Hardening"): each source gives credentials the S3 side accepts,
credentials that expire during a long read are refreshed and the read completes byte for byte, an ExpiredToken
answer forces one refresh and the request is retried, and a mount with no source fails fast with one clear line.

The S3 side is hostile_s3.HostileS3 with a CredentialCheck (SigV4 verified against the issued secrets); the
credential services are fake_credentials.FakeCredentialService (IMDSv2, container endpoint, STS, a
credential_process script), all on 127.0.0.1. Every s3mount here runs with AWS_EC2_METADATA_DISABLED=true or
with AWS_EC2_METADATA_SERVICE_ENDPOINT on the loopback fake, and with a HOME, config and credentials file of its
own, so nothing reaches 169.254.x.x or the machine's ~/.aws.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import socket
import time

import pytest

from conftest import MiB, is_mounted, live_daemons, mount_fstype, wait_until
from fake_credentials import FakeCredentialService
from hostile_s3 import CredentialCheck, HostileS3

ROLE_ARN = "arn:aws:iam::123456789012:role/s3mount-test"
ERROR_LINE = re.compile(r"^s3mount: error: .+: .+$")
FAIL_FAST = 5.0  # seconds: a mount without usable credentials must be refused faster than this


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def data_for(name: str, size: int) -> bytes:
    return random.Random(name).randbytes(size)


@pytest.fixture
def check():
    return CredentialCheck()


@pytest.fixture
def server(check):
    s = HostileS3(credentials=check).start()
    yield s
    s.stop()


@pytest.fixture
def service(check):
    s = FakeCredentialService(check).start()
    yield s
    s.stop()


def base_env(env, tmp_path) -> dict[str, str]:
    """The child environment with no credential source at all: no keys, its own empty HOME and AWS files,
    instance metadata disabled."""
    child = env.child_env()
    for name in list(child):
        if name.startswith("AWS_") and name not in ("AWS_REGION", "AWS_DEFAULT_REGION"):
            del child[name]
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    child.update(HOME=str(home), AWS_CONFIG_FILE=str(tmp_path / "config"),
                 AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"), AWS_EC2_METADATA_DISABLED="true")
    return child


def source_env(source: str, env, tmp_path, service: FakeCredentialService, check: CredentialCheck) -> dict[str, str]:
    """The environment (and files) that configure `source` against the fakes."""
    child = base_env(env, tmp_path)
    if source == "environment":
        key, secret = "AKIAENVIRONMENT", "environment-secret"
        check.issue(key, secret, None, None)
        child.update(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
    elif source == "web_identity":
        token_file = tmp_path / "web-identity-token"
        token_file.write_text(service.web_token + "\n")
        child.update(AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file), AWS_ROLE_ARN=ROLE_ARN,
                     AWS_ROLE_SESSION_NAME="mounted-test", AWS_ENDPOINT_URL_STS=service.url)
    elif source == "assume_role":
        key, secret = service.static_source_key()
        (tmp_path / "credentials").write_text(f"[base]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
        (tmp_path / "config").write_text(f"[profile dev]\nrole_arn = {ROLE_ARN}\nsource_profile = base\n")
        child.update(AWS_PROFILE="dev", AWS_ENDPOINT_URL_STS=service.url)
    elif source == "process":
        script = service.process_script(str(tmp_path / "get-credentials"))
        (tmp_path / "config").write_text(f"[profile proc]\ncredential_process = {script} --profile proc\n")
        child.update(AWS_PROFILE="proc")
    elif source == "container":
        token_file = tmp_path / "container-token"
        token_file.write_text(service.container_token)
        child.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=service.url + "/container/credentials",
                     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=str(token_file))
    elif source == "imds":
        del child["AWS_EC2_METADATA_DISABLED"]
        child.update(AWS_EC2_METADATA_SERVICE_ENDPOINT=service.url)
    else:
        raise AssertionError(source)
    return child


def mount_with(mounter, server: HostileS3, child_env: dict[str, str], *options: str) -> str:
    mp = mounter.mountpoint()
    args = ["--endpoint", server.url, "--block-size", "1M", *options, server.bucket, mp]
    r = mounter.run(args, env=child_env)
    assert r.returncode == 0, f"s3mount {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}"
    assert mount_fstype(mp) == "fuse.s3mount"
    return mp


def run_refused(mounter, child_env: dict[str, str], server_url: str = "http://127.0.0.1:9"):
    mp = mounter.mountpoint()
    t0 = time.monotonic()
    r = mounter.run(["--endpoint", server_url, "bucket", mp], env=child_env, timeout=60)
    elapsed = time.monotonic() - t0
    assert r.returncode == 1, f"exit {r.returncode}, want 1; stderr: {r.stderr!r}"
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and ERROR_LINE.match(lines[0]), f"want one 's3mount: error: ...' line: {r.stderr!r}"
    assert elapsed < FAIL_FAST, f"took {elapsed:.1f}s to refuse, want < {FAIL_FAST}s"
    assert not is_mounted(mp) and live_daemons(mp) == []
    return lines[0]


SOURCE_LOG = {
    "environment": "environment",
    "web_identity": f"web identity (role {ROLE_ARN})",
    "assume_role": f"profile dev (role {ROLE_ARN} from profile base in ",
    "process": "profile proc (credential_process)",
    "container": "container credentials (http://127.0.0.1:",
    "imds": "instance metadata (http://127.0.0.1:",
}


@pytest.mark.parametrize("source", list(SOURCE_LOG))
def test_each_source_mounts_and_reads(mounter, env, tmp_path, server, service, check, source):
    data = data_for(source, 3 * MiB + 333)
    server.put("data.bin", data)
    log = tmp_path / "s3mount.log"
    mp = mount_with(mounter, server, source_env(source, env, tmp_path, service, check), "--log-file", str(log))
    with open(os.path.join(mp, "data.bin"), "rb") as f:
        assert sha(f.read()) == sha(data)
    accepted = check.accepted_keys()
    expected = ["AKIAENVIRONMENT"] if source == "environment" else service.keys(source)
    assert accepted and set(accepted) <= set(expected), f"S3 accepted {accepted}, the {source} source gave {expected}"
    assert not service.rejected, service.rejected
    text = log.read_text()
    assert f"source={SOURCE_LOG[source]}" in text, f"the log does not name the source: {text!r}"
    for key, (secret, token, _) in check.issued.items():
        assert secret not in text and (token is None or token not in text), "a secret or token reached the log"


def test_credentials_expiring_during_a_read_are_refreshed(mounter, env, tmp_path, server, service, check):
    """Instance-metadata credentials living 16 s, a sequential read paced to take about 22 s: the read completes
    byte for byte, S3 saw requests signed with the credentials fetched after the first ones, and none with
    expired ones (the refresh runs ahead of the expiry)."""
    service.lifetime = 16
    data = data_for("long-read", 44 * MiB)
    server.put("long.bin", data)
    mp = mount_with(mounter, server, source_env("imds", env, tmp_path, service, check), "--max-prefetch", "2M")
    first_expiry = time.time() + service.lifetime
    digest = hashlib.sha256()
    with open(os.path.join(mp, "long.bin"), "rb", buffering=0) as f:
        while chunk := f.read(MiB):
            digest.update(chunk)
            time.sleep(0.5)  # the pace of a slow consumer, so the read spans the expiry
    assert time.time() > first_expiry + 2, "the read ended before the first credentials expired: nothing tested"
    assert digest.hexdigest() == sha(data)
    issued = service.keys("imds")
    assert len(issued) >= 2, f"the credentials were never refreshed: {issued}"
    accepted = check.accepted_keys()
    assert accepted[0] == issued[0] and any(k in accepted for k in issued[1:]), \
        f"S3 never saw a request signed with refreshed credentials: accepted {accepted}, issued {issued}"
    # The refresh starts 4 s before the expiry (a quarter of the lifetime), so no request met an expired key.
    refused = [(key, outcome) for key, outcome in check.seen if outcome != "OK"]
    assert not refused, f"requests were refused: {refused}"


def test_expired_token_answer_forces_one_refresh_and_a_retry(mounter, env, tmp_path, server, service, check):
    """The S3 side expires the credentials early (they claim an hour): the next GET is answered ExpiredToken, the
    mount fetches new credentials once and the retried request succeeds; the read is byte for byte."""
    data = data_for("expired-token", 8 * MiB)
    server.put("data.bin", data)
    mp = mount_with(mounter, server, source_env("imds", env, tmp_path, service, check), "--max-prefetch", "1M")
    digest = hashlib.sha256()
    with open(os.path.join(mp, "data.bin"), "rb", buffering=0) as f:
        digest.update(f.read(MiB))
        [first] = service.keys("imds")
        check.expire(first)
        while chunk := f.read(MiB):
            digest.update(chunk)
    assert digest.hexdigest() == sha(data)
    issued = service.keys("imds")
    assert len(issued) == 2, f"want exactly one refresh, the service issued {issued}"
    assert "ExpiredToken" in check.outcomes(first)
    assert check.accepted_keys() == issued
    assert set(check.outcomes(issued[1])) == {"OK"}


def test_no_source_fails_fast_with_one_line(mounter, env, tmp_path):
    line = run_refused(mounter, base_env(env, tmp_path))
    assert "no AWS credentials found (tried environment, web identity, profile default, container credentials, " \
           "instance metadata (disabled by AWS_EC2_METADATA_DISABLED))" in line
    assert "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in line and "--no-sign-request" in line


def test_unreachable_instance_metadata_fails_fast(mounter, env, tmp_path):
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    child = base_env(env, tmp_path)
    del child["AWS_EC2_METADATA_DISABLED"]
    child["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = f"http://127.0.0.1:{port}"
    line = run_refused(mounter, child)
    assert f"no AWS credentials found (tried environment, web identity, profile default, container credentials, " \
           f"instance metadata (http://127.0.0.1:{port}): no answer for session token" in line


def test_failing_credential_process_is_named_and_its_output_never_shown(mounter, env, tmp_path):
    script = tmp_path / "broken"
    script.write_text("#!/bin/sh\necho '{\"AccessKeyId\": \"LEAKEDKEY\"}'\necho 'login required' >&2\nexit 1\n")
    script.chmod(0o755)
    (tmp_path / "config").write_text(f"[profile broken]\ncredential_process = {script}\n")
    child = base_env(env, tmp_path)
    child["AWS_PROFILE"] = "broken"
    line = run_refused(mounter, child)
    assert "profile broken (credential_process): the command exited with status 1: login required" in line
    assert "LEAKEDKEY" not in line


def test_configured_source_that_fails_is_not_skipped(mounter, env, tmp_path, service, check):
    """A container endpoint refusing the token: the mount fails naming it, and does not fall through to instance
    metadata (which here would answer)."""
    child = source_env("imds", env, tmp_path, service, check)
    child.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=service.url + "/container/credentials",
                 AWS_CONTAINER_AUTHORIZATION_TOKEN="wrong-token")
    line = run_refused(mounter, child)
    assert f"container credentials ({service.url}/container/credentials) answered HTTP 401" in line
    assert service.count("imds") == 0
