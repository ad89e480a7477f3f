#!/usr/bin/env bash
# s3mount write path alone: 2 GiB dd into a mount whose upload is held back (--upload-bandwidth 64K), the file
# unlinked before it could upload, staging on disk (bench/work) and on tmpfs, twice each; prints close time and
# daemon CPU. A diagnostic beside bench/write_bench.py (w9), not part of make bench-write. Needs the write
# benchmark's tmpfs source (BENCH_KEEP_SRC=1). env: S3MOUNT_BIN, BENCH_ENDPOINT (http://127.0.0.1:7481)
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."; eval "$(scripts/testbed/ceph.sh env)"
BIN=${S3MOUNT_BIN:-$PWD/.build/release/s3mount}; export BENCH_ENDPOINT=${BENCH_ENDPOINT:-http://127.0.0.1:7481}; EP=$BENCH_ENDPOINT; M=$PWD/bench/work/mnt/write-path; mkdir -p $M
trap 'timeout 60 fusermount3 -u $M 2>/dev/null' EXIT
SRC=/dev/shm/s3mount-bench-write/src-2048M.bin
for variant in disk tmpfs disk tmpfs; do
  if [ $variant = disk ]; then C=$PWD/bench/work/s3m-wp-cache; else C=/dev/shm/s3m-wp-cache; fi
  rm -rf $C; mkdir -p $C
  timeout 60 $BIN s3mount-bench $M --endpoint $EP --cache-dir $C --upload-bandwidth 64K --drain-timeout 0 --log-file $PWD/bench/work/logs/write-path.log || { echo mount failed; exit 1; }
  P=$(pgrep -f "^$BIN s3mount-bench $M" | head -1)
  c0=$(awk '{print $14+$15}' /proc/$P/stat)
  echo 3 > /proc/sys/vm/drop_caches
  t0=$(date +%s.%N); timeout 300 dd if=$SRC of=$M/wbench/wp-$variant.bin bs=1M count=2048 status=none; t1=$(date +%s.%N)
  c1=$(awk '{print $14+$15}' /proc/$P/stat)
  echo "$variant: close after $(echo "$t1 - $t0" | bc) s, daemon cpu $(( (c1-c0) ))/100 s"
  rm -f $M/wbench/wp-$variant.bin
  timeout 60 fusermount3 -u $M; sleep 1; rm -rf $C
done
python3 - <<'PY'
import boto3, os
from botocore.config import Config
s3=boto3.client("s3",endpoint_url=os.environ.get("BENCH_ENDPOINT", "http://127.0.0.1:7481"),config=Config(s3={"addressing_style":"path"}))
for x in s3.list_multipart_uploads(Bucket="s3mount-bench",Prefix="wbench/wp").get("Uploads",[]):
    s3.abort_multipart_upload(Bucket="s3mount-bench",Key=x["Key"],UploadId=x["UploadId"]); print("aborted",x["Key"])
for o in s3.list_objects_v2(Bucket="s3mount-bench",Prefix="wbench/wp").get("Contents",[]):
    s3.delete_object(Bucket="s3mount-bench",Key=o["Key"]); print("deleted",o["Key"])
PY
timeout 120 radosgw-admin gc process --include-all
