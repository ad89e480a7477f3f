#!/usr/bin/env bash
# The s3mount demo: build, start the local S3 testbed (Ceph radosgw on 127.0.0.1), upload a sample
# dataset under demo/, mount test:demo on /tmp/s3mount-demo, show it, check every file's sha256
# against the upload manifest, write a checkpoint into it and check the object S3 holds, unmount.
#
# usage: scripts/demo.sh            (make demo runs it after installing the dependencies)
# env:   S3MOUNT_BIN  use this binary instead of building (default: swift build -c release)
#        DEMO_MNT     mountpoint (default /tmp/s3mount-demo)
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
MNT=${DEMO_MNT:-/tmp/s3mount-demo}
[ -d /opt/swift/usr/bin ] && case ":$PATH:" in *:/opt/swift/usr/bin:*) ;; *) PATH=$PATH:/opt/swift/usr/bin ;; esac

if [ -t 1 ]; then B=$'\033[1m' N=$'\033[0m'; else B='' N=''; fi
step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
show() { printf '$ %s\n' "$*"; "$@"; }

if [ -z "${S3MOUNT_BIN:-}" ]; then
  step "swift build -c release"
  swift build -c release
  S3MOUNT_BIN=$(swift build -c release --show-bin-path)/s3mount
fi
[ -x "$S3MOUNT_BIN" ] || { echo "demo: no s3mount binary at $S3MOUNT_BIN" >&2; exit 1; }

step "start the S3 testbed (Ceph radosgw on 127.0.0.1)"
scripts/testbed/ceph.sh start
eval "$(scripts/testbed/ceph.sh env)"
echo "endpoint $AWS_ENDPOINT_URL, bucket $S3_BUCKET"

step "upload the sample dataset to s3://$S3_BUCKET/demo/"
MANIFEST=$(mktemp /tmp/s3mount-demo-manifest.XXXXXX)
unmount() {
  if mountpoint -q "$MNT" 2>/dev/null; then
    fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
  fi
}
cleanup() { unmount; rm -f "$MANIFEST"; [ -z "${CACHE:-}" ] || rm -rf "$CACHE"; }
trap cleanup EXIT
python3 scripts/sample-data.py --bucket "$S3_BUCKET" --prefix demo/ --manifest "$MANIFEST" >/dev/null
cat "$MANIFEST"

step "mount $S3_BUCKET:demo on $MNT"
unmount   # a mount left over by an earlier, interrupted run
mkdir -p "$MNT"
CACHE=$(mktemp -d /tmp/s3mount-demo-cache.XXXXXX)
show timeout 60 "$S3MOUNT_BIN" "$S3_BUCKET:demo" "$MNT" --endpoint "$AWS_ENDPOINT_URL" --cache-dir "$CACHE"
mountpoint -q "$MNT" || { echo "demo: s3mount returned but $MNT is not a mountpoint" >&2; exit 1; }
show findmnt "$MNT"

step "browse it"
show ls -lR "$MNT"
show cat "$MNT/README.txt"
show head -n 3 "$MNT/data/numbers.csv"

step "check every file against the manifest"
(cd "$MNT" && show sha256sum -c "$MANIFEST")

step "write a 64 MiB checkpoint into the mount; fsync waits until S3 has it"
show mkdir -p "$MNT/checkpoints"
show python3 -c "
import hashlib, os
data = os.urandom(64 << 20)
with open('$MNT/checkpoints/step-100.pt', 'wb') as f:
    for i in range(0, len(data), 1 << 16): f.write(data[i:i + (1 << 16)])
    f.flush(); os.fsync(f.fileno())
print('written  sha256', hashlib.sha256(data).hexdigest())
"
show ls -l "$MNT/checkpoints"
show python3 -c "
import boto3, hashlib
body = boto3.client('s3', endpoint_url='$AWS_ENDPOINT_URL').get_object(Bucket='$S3_BUCKET', Key='demo/checkpoints/step-100.pt')['Body'].read()
print('in S3    sha256', hashlib.sha256(body).hexdigest())
"

step "unmount"
show fusermount3 -u "$MNT"
mountpoint -q "$MNT" && { echo "demo: $MNT is still mounted" >&2; exit 1; }
echo "demo OK"
