"""`s3mount serve docker` (issue 11): Docker's v1 VolumeDriver protocol, spoken over the plugin's unix socket as
dockerd speaks it (HTTP/1.1 POSTs with JSON bodies, Host plugin.moby.localhost, the plugins mimetype), with no
dockerd: volumes that survive a restart of the plugin, one s3mount daemon per mounted volume whatever the number
of containers, reference counts per container ID, and clear refusals that leave nothing half made.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile

import pytest

from conftest import (MiB, cleanup_mountpoint, det_bytes, is_mounted, live_daemons, mount_fstype, mountinfo,
                      wait_until)

MIMETYPE = "application/vnd.docker.plugins.v1.2+json"  # what dockerd sends
START_DEADLINE = 20  # seconds for the plugin to listen
CALL_TIMEOUT = 90  # a Mount waits for its daemon's verdict


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("plugin.moby.localhost", timeout=CALL_TIMEOUT)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(CALL_TIMEOUT)
        self.sock.connect(self.path)


class Plugin:
    """One `s3mount serve docker` with its own socket and state directory under `base`."""

    def __init__(self, env, base: str):
        self.env = env
        self.dir = tempfile.mkdtemp(prefix="docker-", dir=base)
        self.socket = os.path.join(self.dir, "s3mount.sock")
        self.state = os.path.join(self.dir, "state")
        self.log = os.path.join(self.dir, "plugin.log")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [self.env.binary, "serve", "docker", "--socket", self.socket, "--state-dir", self.state],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.env.child_env())
        assert wait_until(self._answers, START_DEADLINE), f"the plugin does not answer on {self.socket}: {self.output()}"

    def _answers(self) -> bool:
        assert self.process.poll() is None, f"the plugin exited {self.process.returncode}: {self.output()}"
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX) as s:
            s.connect(self.socket)
            return True
        return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def output(self) -> str:
        with open(self.log, errors="replace") as f:
            return f.read()

    def call(self, endpoint: str, body=None) -> tuple[int, dict, str]:
        """POST /ENDPOINT with a JSON body as dockerd does; (status, JSON answer, Content-Type)."""
        connection = UnixHTTPConnection(self.socket)
        try:
            connection.request("POST", "/" + endpoint, body=json.dumps(body).encode() + b"\n",
                               headers={"Accept": MIMETYPE, "Content-Type": MIMETYPE})
            response = connection.getresponse()
            return response.status, json.loads(response.read()), response.getheader("Content-Type")
        finally:
            connection.close()

    def ok(self, endpoint: str, body=None) -> dict:
        status, answer, _ = self.call(endpoint, body)
        assert status == 200 and not answer.get("Err"), f"{endpoint} {body}: {status} {answer}\n{self.output()}"
        return answer

    def refused(self, endpoint: str, body) -> str:
        status, answer, _ = self.call(endpoint, body)
        assert status == 500 and answer.get("Err"), f"{endpoint} {body} was not refused: {status} {answer}"
        return answer["Err"]

    def names(self) -> list[str]:
        return [v["Name"] for v in self.ok("VolumeDriver.List")["Volumes"]]

    def cleanup(self) -> list[str]:
        """Stops the plugin, then unmounts whatever it mounted and waits for those daemons."""
        self.stop()
        problems = []
        for point, _ in mountinfo():
            if point.startswith(self.dir + os.sep):
                problems += cleanup_mountpoint(point)
        return problems


@pytest.fixture
def plugin(env, mount_base):
    p = Plugin(env, mount_base)
    p.start()
    yield p
    problems = p.cleanup()
    if problems:
        pytest.fail("teardown: " + "; ".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def data(s3, env, prefix):
    """docker/data.bin, 3 MiB + 17 bytes; its sha256."""
    body = det_bytes("docker", 3 * MiB + 17)
    s3.put_object(Bucket=env.bucket, Key=f"{prefix}docker/data.bin", Body=body)
    return hashlib.sha256(body).hexdigest()


def volume_options(env, prefix: str, **more: str) -> dict:
    return {"bucket": env.bucket, "prefix": f"{prefix}docker", "endpoint": env.endpoint, "ro": "", **more}


def sha256_of(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_activate_and_capabilities(plugin):
    status, answer, content_type = plugin.call("Plugin.Activate")
    assert (status, answer) == (200, {"Implements": ["VolumeDriver"]})
    assert content_type == "application/vnd.docker.plugins.v1+json"
    assert plugin.ok("VolumeDriver.Capabilities") == {"Capabilities": {"Scope": "local"}}
    assert plugin.ok("VolumeDriver.List") == {"Volumes": [], "Err": ""}


def test_volume_lifecycle_across_a_restart(plugin, env, prefix, data):
    options = volume_options(env, prefix, metadata_ttl="5")
    plugin.ok("VolumeDriver.Create", {"Name": "vol1", "Opts": options})
    assert plugin.names() == ["vol1"]
    assert not plugin.ok("VolumeDriver.Path", {"Name": "vol1"})["Mountpoint"]

    plugin.restart()  # the list is on disk; nothing is mounted yet
    assert plugin.names() == ["vol1"]
    assert plugin.ok("VolumeDriver.Get", {"Name": "vol1"})["Volume"]["Status"]["options"] == options

    first = plugin.ok("VolumeDriver.Mount", {"Name": "vol1", "ID": "container-a"})["Mountpoint"]
    second = plugin.ok("VolumeDriver.Mount", {"Name": "vol1", "ID": "container-b"})["Mountpoint"]
    assert first == second == os.path.join(plugin.state, "volumes", "vol1", "_data")
    assert mount_fstype(first) == "fuse.s3mount"
    assert len(live_daemons(first)) == 1, "two containers must share one daemon"
    assert sha256_of(os.path.join(first, "data.bin")) == data
    assert plugin.ok("VolumeDriver.Path", {"Name": "vol1"})["Mountpoint"] == first
    volume = plugin.ok("VolumeDriver.Get", {"Name": "vol1"})["Volume"]
    assert (volume["Mountpoint"], volume["Status"]["containers"], volume["Status"]["mounted"]) == (first, 2, True)

    assert "mounted for 2 container(s)" in plugin.refused("VolumeDriver.Remove", {"Name": "vol1"})
    assert plugin.names() == ["vol1"] and is_mounted(first)

    plugin.ok("VolumeDriver.Unmount", {"Name": "vol1", "ID": "container-a"})
    assert is_mounted(first), "the first Unmount of two must keep the mount"
    assert sha256_of(os.path.join(first, "data.bin")) == data
    assert "not mounted for container container-a" in plugin.refused(
        "VolumeDriver.Unmount", {"Name": "vol1", "ID": "container-a"})

    plugin.ok("VolumeDriver.Unmount", {"Name": "vol1", "ID": "container-b"})
    assert not is_mounted(first), "the last Unmount must unmount"
    assert wait_until(lambda: not live_daemons(first), 20), "the volume's daemon outlived its mount"
    assert plugin.ok("VolumeDriver.Path", {"Name": "vol1"})["Mountpoint"] == ""

    plugin.ok("VolumeDriver.Remove", {"Name": "vol1"})
    assert plugin.names() == []
    assert plugin.refused("VolumeDriver.Get", {"Name": "vol1"}) == "no such volume: vol1"
    assert not os.path.exists(os.path.join(plugin.state, "volumes", "vol1"))
    plugin.restart()
    assert plugin.names() == [], "a removed volume came back after a restart"


def test_a_mount_outlives_a_restart_of_the_plugin(plugin, env, prefix, data):
    plugin.ok("VolumeDriver.Create", {"Name": "kept", "Opts": volume_options(env, prefix)})
    mountpoint = plugin.ok("VolumeDriver.Mount", {"Name": "kept", "ID": "before"})["Mountpoint"]
    daemons = live_daemons(mountpoint)

    plugin.restart()  # the containers' mount stays; the plugin no longer knows who uses it
    assert is_mounted(mountpoint) and live_daemons(mountpoint) == daemons
    assert plugin.ok("VolumeDriver.Mount", {"Name": "kept", "ID": "after"})["Mountpoint"] == mountpoint
    assert live_daemons(mountpoint) == daemons, "a mount found live must be reused, not mounted again"
    plugin.ok("VolumeDriver.Unmount", {"Name": "kept", "ID": "after"})
    assert is_mounted(mountpoint), "users from before the restart are unknown: the mount must stay"
    assert sha256_of(os.path.join(mountpoint, "data.bin")) == data
    plugin.ok("VolumeDriver.Unmount", {"Name": "kept", "ID": "before"})  # an ID from before: accepted

    plugin.ok("VolumeDriver.Remove", {"Name": "kept"})  # dockerd removes a volume no container refers to
    assert not is_mounted(mountpoint)
    assert plugin.names() == []


@pytest.mark.parametrize("options, message", [
    ({"read_ahead_nonsense": "1"}, "bad volume options: Unknown option '--read-ahead-nonsense'"),
    ({"max_connections": "0"}, "bad volume options: --max-connections must be between 1 and 1024, got 0"),
    ({"endpoint": "ftp://example"}, "bad volume options: --endpoint must be an http:// or https:// URL, got 'ftp://example'"),
    ({"aws_secret_access_key": "hunter2"}, "option aws_secret_access_key looks like a credential"),
    ({"foreground": ""}, "option foreground is not for volumes"),
])
def test_create_with_a_bad_option_leaves_no_volume(plugin, env, prefix, options, message):
    error = plugin.refused("VolumeDriver.Create", {"Name": "bad", "Opts": {**volume_options(env, prefix), **options}})
    assert error.startswith(message), error
    assert "hunter2" not in error and "hunter2" not in plugin.output()
    assert plugin.names() == []
    assert not os.path.exists(os.path.join(plugin.state, "volumes", "bad"))
    plugin.restart()
    assert plugin.names() == []


def test_create_needs_a_bucket_and_a_valid_name(plugin, env):
    assert plugin.refused("VolumeDriver.Create", {"Name": "nobucket", "Opts": {"endpoint": env.endpoint}}) == \
        "option bucket is missing: give -o bucket=NAME"
    assert plugin.refused("VolumeDriver.Create", {"Name": "../escape", "Opts": {"bucket": env.bucket}}).startswith(
        "invalid volume name ../escape")
    assert plugin.names() == []


def test_mount_of_an_unknown_volume(plugin):
    assert plugin.refused("VolumeDriver.Mount", {"Name": "nope", "ID": "c1"}) == "no such volume: nope"
    assert plugin.refused("VolumeDriver.Remove", {"Name": "nope"}) == "no such volume: nope"


def test_a_volume_whose_mount_fails_is_kept_unmounted(plugin, env, prefix):
    """The options parse but the bucket does not exist: Mount fails with s3mount's own reason, nothing stays mounted,
    and the volume is still there to fix or remove."""
    plugin.ok("VolumeDriver.Create", {"Name": "missing", "Opts": {**volume_options(env, prefix), "bucket": "no-such-bucket-s3m"}})
    error = plugin.refused("VolumeDriver.Mount", {"Name": "missing", "ID": "c1"})
    assert error.startswith("cannot mount volume missing: bucket 'no-such-bucket-s3m' does not exist"), error
    mountpoint = os.path.join(plugin.state, "volumes", "missing", "_data")
    assert not is_mounted(mountpoint) and live_daemons(mountpoint) == []
    assert plugin.ok("VolumeDriver.Path", {"Name": "missing"})["Mountpoint"] == ""
    plugin.ok("VolumeDriver.Remove", {"Name": "missing"})
    assert plugin.names() == []
