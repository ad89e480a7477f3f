"""The container recipes that cannot run here (issue 11): no registry to build the image from, no cluster to apply
the manifests to. What can be checked is: the Dockerfile copies paths that exist and builds the way the docs say,
the Kubernetes YAML parses and wires the mount the way packaging/kubernetes/README.md says, and the plugin's
systemd unit passes `systemd-analyze verify` (with its binary pointed at the one under test)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGING = os.path.join(REPO, "packaging")


def test_dockerfile_copies_what_the_repository_has():
    with open(os.path.join(PACKAGING, "docker", "Dockerfile")) as f:
        text = f.read()
    stages = re.findall(r"^FROM (\S+)(?: AS (\w+))?", text, re.M)
    assert [image for image, _ in stages] == ["swift:6.2-bookworm", "debian:12-slim"]
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for path in source.split():
            assert os.path.exists(os.path.join(REPO, path)), f"the Dockerfile copies {path}, which the repository lacks"
    assert "swift build -c release --static-swift-stdlib" in text
    for package in ("fuse3", "libfuse3-3", "libcurl4", "ca-certificates"):
        assert re.search(rf"apt-get install .*\b{re.escape(package)}\b", text), package
    assert 'ENTRYPOINT ["s3mount"]' in text


def test_kubernetes_manifests_wire_the_mount():
    yaml = pytest.importorskip("yaml", reason="python3 yaml is not installed: the manifests are not parsed")
    documents = {}
    for name in ("daemonset.yaml", "example-pod.yaml", "secret.yaml"):
        with open(os.path.join(PACKAGING, "kubernetes", name)) as f:
            for document in yaml.safe_load_all(f):
                documents[document["kind"]] = document
    spec = documents["DaemonSet"]["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    assert container["securityContext"]["privileged"] is True
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert mounts["buckets"]["mountPropagation"] == "Bidirectional"
    assert volumes["fuse"]["hostPath"] == {"path": "/dev/fuse", "type": "CharDevice"}
    secret = documents["Secret"]["metadata"]["name"]
    assert {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]} == {
        "AWS_ACCESS_KEY_ID": secret, "AWS_SECRET_ACCESS_KEY": secret}
    mountpoint = container["lifecycle"]["preStop"]["exec"]["command"][-1]
    assert container["lifecycle"]["preStop"]["exec"]["command"][:2] == ["fusermount3", "-u"]
    assert "exec s3mount --foreground" in container["args"][0] and container["args"][0].endswith(mountpoint)

    pod = documents["Pod"]["spec"]
    (reader,) = pod["containers"]
    (use,) = reader["volumeMounts"]
    assert use["mountPropagation"] == "HostToContainer"
    host = next(v for v in pod["volumes"] if v["name"] == use["name"])["hostPath"]["path"]
    assert host == volumes["buckets"]["hostPath"]["path"] and mountpoint.startswith(host + "/")


def test_plugin_unit_verifies(env, tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    with open(os.path.join(PACKAGING, "systemd", "s3mount-docker-plugin.service")) as f:
        unit = f.read()
    assert "ExecStart=/usr/bin/s3mount serve docker " in unit and "KillMode=process" in unit
    path = tmp_path / "s3mount-docker-plugin.service"
    path.write_text(unit.replace("/usr/bin/s3mount", env.binary))
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
