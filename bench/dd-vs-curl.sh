#!/usr/bin/env bash
# The foundation figures: sequential `dd bs=1M` of one object through s3mount beside `curl -o /dev/null` of the
# same object, cold (page cache dropped, fresh mount) each time, and how long `s3mount` takes to return a live
# mount. Medians of RUNS runs, on the local Ceph testbed.
#
# usage: bench/dd-vs-curl.sh [SIZE_MIB]       env: S3MOUNT_BIN (default .build/release/s3mount), RUNS (3),
#        S3MOUNT_OPTS (extra options for s3mount), BUCKET (s3mount-bench)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SIZE_MIB=${1:-1024}
RUNS=${RUNS:-3}
BIN=${S3MOUNT_BIN:-$PWD/.build/release/s3mount}
BUCKET=${BUCKET:-s3mount-bench}
KEY="ddcurl/obj-${SIZE_MIB}M.bin"
MNT=$(mktemp -d /tmp/s3mount-ddcurl.XXXXXX)
eval "$(scripts/testbed/ceph.sh env)"
trap 'fusermount3 -u "$MNT" 2>/dev/null; rmdir "$MNT"' EXIT
EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

python3 - "$BUCKET" "$KEY" "$SIZE_MIB" <<'PY'
import os, sys, boto3, botocore
bucket, key, size = sys.argv[1], sys.argv[2], int(sys.argv[3]) << 20
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
try:
    s3.create_bucket(Bucket=bucket)
except botocore.exceptions.ClientError:
    pass
try:
    if s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == size:
        sys.exit(0)
except botocore.exceptions.ClientError:
    pass
path = "/tmp/s3mount-ddcurl-src.bin"
with open(path, "wb") as f:
    for _ in range(size >> 20):
        f.write(os.urandom(1 << 20))
s3.upload_file(path, bucket, key)
os.remove(path)
PY

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
dd_rates=() curl_rates=() mount_ms=()
for run in $(seq "$RUNS"); do
  sync; echo 3 > /proc/sys/vm/drop_caches
  start=$(date +%s%N)
  # shellcheck disable=SC2086
  "$BIN" "$BUCKET:ddcurl" "$MNT" --endpoint "$AWS_ENDPOINT_URL" ${S3MOUNT_OPTS:-}
  mount_ms+=($(( ($(date +%s%N) - start) / 1000000 )))
  bytes_per_s=$(dd if="$MNT/obj-${SIZE_MIB}M.bin" of=/dev/null bs=1M 2>&1 | awk '/copied/ {print $(NF-1), $NF}')
  dd_rates+=("$(echo "$bytes_per_s" | awk '{v=$1; if ($2=="GB/s") v*=1000; print v}')")
  fusermount3 -u "$MNT"
  curl_rates+=("$(curl -s -o /dev/null -w '%{speed_download}' --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $EMPTY_SHA" \
    "$AWS_ENDPOINT_URL/$BUCKET/$KEY" | awk '{printf "%.0f", $1 / 1e6}')")
done
dd_median=$(printf '%s\n' "${dd_rates[@]}" | median)
curl_median=$(printf '%s\n' "${curl_rates[@]}" | median)
echo "object: s3://$BUCKET/$KEY ($SIZE_MIB MiB), $RUNS cold runs, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "dd bs=1M through s3mount (MB/s): ${dd_rates[*]}  median $dd_median"
echo "curl -o /dev/null (MB/s):        ${curl_rates[*]}  median $curl_median"
echo "ratio s3mount/curl: $(awk -v a="$dd_median" -v b="$curl_median" 'BEGIN {printf "%.2f", a / b}')"
echo "mount time (ms, s3mount returning a live mount): ${mount_ms[*]}  median $(printf '%s\n' "${mount_ms[@]}" | median)"
