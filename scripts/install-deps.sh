#!/usr/bin/env bash
# Install everything that building, testing and the demo need on Debian 12 (run as root).
# Idempotent and quiet; when everything is present it only runs dpkg-query and one python import (< 1 s).
#   build : Swift 6 (at /opt/swift on our machines, not installed here), pkg-config, libfuse3-dev,
#           libcurl4-openssl-dev, libssl-dev, libxxhash-dev, libxml2
#   run   : fuse3 (fusermount3; /dev/fuse must exist)
#   deb   : dpkg-dev (dpkg-shlibdeps computes Depends), lintian (checks the package), man-db (man -w in its test)
#   tests : curl, fio, the Ceph testbed packages (scripts/testbed/ceph.sh packages), python3 with pytest, boto3 and
#           prometheus_client (its text parser checks /metrics)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

PKGS="pkg-config libfuse3-dev libcurl4-openssl-dev libssl-dev libxxhash-dev libxml2 fuse3 curl fio dpkg-dev lintian man-db
      $(bash "$REPO/scripts/testbed/ceph.sh" packages)"

apt_install() {  # PACKAGE...: apt-get install, quietly, with the log's tail on failure
  [ "$(id -u)" = 0 ] || { echo "install-deps: need root to install: $*" >&2; exit 1; }
  echo "install-deps: apt-get install $*" >&2
  export DEBIAN_FRONTEND=noninteractive
  local log
  log=$(mktemp)
  if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "$@"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2; rm -f "$log"; echo "install-deps: apt-get failed" >&2; exit 1
  fi
  rm -f "$log"
}

missing=()
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

# pytest, boto3 and prometheus_client for whichever python3 runs the tests. Debian's own python3 is "externally managed" (PEP 668):
# pip refuses it unless told --break-system-packages; a pyenv or venv python takes a plain pip install.
if ! python3 -c 'import pytest, boto3, prometheus_client' 2>/dev/null; then
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  echo "install-deps: pip install pytest boto3 prometheus_client" >&2
  pip_install="python3 -m pip install -q --disable-pip-version-check"
  $pip_install pytest boto3 prometheus_client 2>/dev/null || $pip_install --break-system-packages pytest boto3 prometheus_client
fi

command -v swift >/dev/null || [ -x /opt/swift/usr/bin/swift ] ||
  echo "install-deps: WARNING: no Swift toolchain found (expected swift in PATH or /opt/swift/usr/bin)" >&2
[ -c /dev/fuse ] || echo "install-deps: WARNING: /dev/fuse is missing: mounting will fail" >&2
exit 0
