"""Helpers for the observability tests (issue 12): scraping /metrics with prometheus_client's text parser,
`s3mount status`, and finding a daemon's listening TCP sockets."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """One scrape of /metrics, parsed by prometheus_client: samples by name and labels."""

    def __init__(self, port: int):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            self.text = response.read().decode()
        self.samples = [s for family in text_string_to_metric_families(self.text) for s in family.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sum of every sample called `name` whose labels include `labels` (0 when there is none)."""
        return sum(s.value for s in self.samples if s.name == name and labels.items() <= s.labels.items())

    def labels(self, name: str) -> list[dict[str, str]]:
        return [s.labels for s in self.samples if s.name == name]


def status(binary: str, *args: str, user: int | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    """Runs `s3mount status ARGS` (as uid/gid `user` when given, through setpriv)."""
    command = [binary, "status", *args]
    env = dict(os.environ)
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
        env.pop("XDG_RUNTIME_DIR", None)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def status_json(binary: str, *mountpoints: str) -> list[dict]:
    r = status(binary, "--json", *mountpoints)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def listening_tcp_ports(pid: int) -> list[int]:
    """Ports of the TCP sockets in LISTEN state that process `pid` holds (IPv4 and IPv6)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    ports = []
    for table in ("tcp", "tcp6"):
        with open(f"/proc/{pid}/net/{table}") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:
                    ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
