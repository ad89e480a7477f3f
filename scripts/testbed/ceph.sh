#!/usr/bin/env bash
# s3mount testbed: a single-node Ceph cluster (mon, osd, optional mgr) with TWO radosgw (S3) gateways over http
# and a third one over https (beast's own TLS, a certificate from a CA made here), everything on 127.0.0.1, no
# systemd, all state under $S3MOUNT_TESTBED.
#
# usage: scripts/testbed/ceph.sh [start|stop|purge|env|status|packages|restart-rgw PORT]
#   start  : install the Debian packages if missing, build the cluster the first time, (re)start the
#            daemons that are not running, create the S3 user and bucket, write $S3MOUNT_TESTBED/env.
#            On a cluster that is already up this is a fast no-op.
#   stop   : stop the daemons this script started (by PID), keep the data.
#   purge  : stop, then delete $S3MOUNT_TESTBED.
#   env    : print the env file (use:  eval "$(scripts/testbed/ceph.sh env)"  or  . "$S3MOUNT_TESTBED/env").
#   status : exit 0 if every daemon and gateway answers, 1 otherwise.
#   packages: print the Debian packages this script needs (scripts/install-deps.sh installs them too).
#
# Settings (environment):
#   S3MOUNT_TESTBED  state dir                  (default <repo>/.testbed/ceph; git-ignored)
#   RGW_PORTS        gateway ports (http)       ("7480 7481")
#   RGW_TLS_PORT     the https gateway's port   (7443)
#   MON_PORTS        monitor ports, v2 and v1   ("3300 6789"; fixed when the cluster is built)
#   S3_BUCKET        bucket to create           (test)
#   OBJECTSTORE      bluestore | memstore       (bluestore: a sparse file osd.0/block, see OSD_SIZE_GB)
#   OSD_SIZE_GB      size of the OSD device     (24)
#   WITH_MGR         start ceph-mgr (0|1)       (0: radosgw does not need it; saves ~300 MB and CPU)
#   WAIT_SECS        bound of each wait         (120)
# The S3 user is always testkey / testsecret (S3MOUNT_TESTBED_KEY / S3MOUNT_TESTBED_SECRET override).
#
# The env file exports: AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION
#   S3_BUCKET S3_ENDPOINTS (space separated) S3_TEST_ENDPOINT (= first endpoint) CEPH_CONF S3MOUNT_TESTBED
#   S3_TLS_ENDPOINT (https://127.0.0.1:RGW_TLS_PORT) S3_TLS_CA (the PEM of the CA that signed its certificate)
#
# TLS: $S3MOUNT_TESTBED/tls/ holds a self-signed CA (ca.pem, ca.key) and the gateway's certificate for 127.0.0.1
# and localhost (server.pem, server.key), made once by openssl. No system trust store knows the CA: clients must
# be given ca.pem (s3mount --ca-bundle, boto3 verify=, curl --cacert).
#
# Two clusters can run on one machine only with different MON_PORTS, RGW_PORTS and RGW_TLS_PORT (and
# S3MOUNT_TESTBED); the OSD picks free ports itself.
# cephx is off inside the cluster; S3 requests are still SigV4-authenticated by radosgw.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TB=${S3MOUNT_TESTBED:-$REPO/.testbed/ceph}
RGW_PORTS=${RGW_PORTS:-"7480 7481"}
RGW_TLS_PORT=${RGW_TLS_PORT:-7443}
MON_PORTS=${MON_PORTS:-"3300 6789"}
MON_V2_PORT=${MON_PORTS%% *}
MON_V1_PORT=${MON_PORTS##* }
MON_ADDRS="[v2:127.0.0.1:$MON_V2_PORT,v1:127.0.0.1:$MON_V1_PORT]"
BUCKET=${S3_BUCKET:-test}
OBJECTSTORE=${OBJECTSTORE:-bluestore}
OSD_SIZE_GB=${OSD_SIZE_GB:-24}
WITH_MGR=${WITH_MGR:-0}
WAIT_SECS=${WAIT_SECS:-120}
AK=${S3MOUNT_TESTBED_KEY:-testkey}
SK=${S3MOUNT_TESTBED_SECRET:-testsecret}
CONF=$TB/ceph.conf
PIDS=$TB/pids
LOG=$TB/log
TLS=$TB/tls
export CEPH_CONF=$CONF
T0=$(date +%s%N)

say() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf 'ceph-testbed [%3d.%01ds] %s\n' $((ms / 1000)) $((ms % 1000 / 100)) "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
tail_log() { local f; for f in "$@"; do [ -f "$f" ] && { echo "----- last lines of $f" >&2; tail -n 25 "$f" >&2; }; done; return 0; }

pid_of() { [ -f "$PIDS/$1" ] && cat "$PIDS/$1"; }
cmd_of() {  # the command line a daemon runs with (to tell it from a reused PID)
  case $1 in
    mon.*) echo "ceph-mon -i ${1#mon.}" ;; mgr.*) echo "ceph-mgr -i ${1#mgr.}" ;;
    osd.*) echo "ceph-osd -i ${1#osd.}" ;; rgw.*) echo "radosgw -n client.$1" ;;
  esac
}
pid_alive() {  # PID NAME: that process exists, is not a zombie, and runs NAME's command
  local st
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
  st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ] || return 1
  tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF "$(cmd_of "$2") "
}
alive() { pid_alive "$(pid_of "$1" 2>/dev/null)" "$1"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
rgw_ok() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"; }
# the https gateway answers, with a certificate that the testbed CA signed for 127.0.0.1
rgw_tls_ok() { curl -s -o /dev/null --max-time 2 --cacert "$TLS/ca.pem" "https://127.0.0.1:$RGW_TLS_PORT/"; }
daemons() {
  echo mon.a; [ "$WITH_MGR" = 1 ] && echo mgr.x; echo osd.0
  local p; for p in $RGW_PORTS; do echo "rgw.p$p"; done; echo rgw.tls
}

all_up() {
  [ -f "$TB/env" ] || return 1
  local d p
  for d in $(daemons); do alive "$d" || return 1; done
  for p in $RGW_PORTS; do rgw_ok "$p" || return 1; done
  rgw_tls_ok && grep -q '^export S3_TLS_ENDPOINT=' "$TB/env"
}

stop_daemons() {  # NAME...: TERM gateways and mgr, then the osd, then the mon; KILL what is still up after 15 s
  local group name p i any
  for group in "rgw mgr" "osd" "mon"; do
    local live=()
    for name in "$@"; do
      case " $group " in *" ${name%%.*} "*) ;; *) continue ;; esac
      p=$(pid_of "$name" 2>/dev/null) || continue
      rm -f "$PIDS/$name"
      if pid_alive "$p" "$name"; then kill "$p" 2>/dev/null || true; live+=("$p:$name"); fi
    done
    [ ${#live[@]} -gt 0 ] || continue
    for i in $(seq 1 150); do
      any=0
      for p in "${live[@]}"; do pid_alive "${p%%:*}" "${p#*:}" && any=1; done
      [ $any = 0 ] && break
      sleep 0.1
    done
    for p in "${live[@]}"; do pid_alive "${p%%:*}" "${p#*:}" && kill -9 "${p%%:*}" 2>/dev/null; done
  done
  return 0
}
stop_all() {
  [ -d "$PIDS" ] || return 0
  local f names=()
  for f in "$PIDS"/*; do [ -f "$f" ] && names+=("${f##*/}"); done
  [ ${#names[@]} -gt 0 ] && stop_daemons "${names[@]}"
  return 0
}

# wait_for DESCRIPTION LOGFILE... -- COMMAND...: poll COMMAND every 0.5 s for at most WAIT_SECS
wait_for() {
  local what=$1; shift
  local logs=()
  while [ "$1" != "--" ]; do logs+=("$1"); shift; done
  shift
  local deadline=$(( $(date +%s) + WAIT_SECS ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "ERROR: $what: not ready after ${WAIT_SECS}s"
      tail_log "${logs[@]}"
      exit 1
    fi
    sleep 0.5
  done
}

start_daemon() {  # NAME COMMAND...  (no-op when that daemon is already running)
  local name=$1; shift
  alive "$name" && return 0
  STARTED+=("$name")
  # own session: the daemons outlive the shell/make/CI step that started them; stdin closed
  # (and without fd 9, the start lock, which they would otherwise hold forever)
  setsid nohup "$@" -f </dev/null >"$LOG/$name.out" 2>&1 9>&- &
  echo $! >"$PIDS/$name"
}

CEPH_PACKAGES="ceph-mon ceph-osd ceph-mgr radosgw ceph-common curl openssl"
install_packages() {
  local need="" p
  for p in $CEPH_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
  done
  [ -z "$need" ] && return 0
  say "installing Debian packages:$need"
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086
  if ! { apt-get update -q && apt-get install -y -q --no-install-recommends $need; } >"${TMPDIR:-/tmp}/ceph-testbed-apt.log" 2>&1; then
    tail_log "${TMPDIR:-/tmp}/ceph-testbed-apt.log"; die "apt-get install failed"
  fi
  say "installed"
}

write_conf() {
  local fsid=$1 port
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon_initial_members = a
mon_host = $MON_ADDRS
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
# radosgw (a client) defaults to ms_mon_client_mode=secure, which auth 'none' cannot do
ms_mon_client_mode = crc secure
keyring = $TB/keyring
run_dir = $TB/run
log_file = $LOG/\$name.log
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
mon_data_avail_warn = 2
mon_data_avail_crit = 1
[mon]
mon_data = $TB/mon.\$id
mon_allow_pool_delete = true
[mgr]
mgr_data = $TB/mgr.\$id
[osd]
osd_data = $TB/osd.\$id
osd_objectstore = $OBJECTSTORE
bluestore_block_size = $((OSD_SIZE_GB << 30))
bluestore_block_create = true
bluestore_block_db_create = false
bluestore_block_wal_create = false
memstore_device_bytes = $((OSD_SIZE_GB << 30))
osd_memory_target = 2147483648
[client]
rgw_dynamic_resharding = false
# Deleted objects' space comes back after a minute, not RGW's default two hours: test and benchmark runs delete
# gigabytes, and a long session would otherwise fill the OSD (RGW then blocks every write).
rgw_gc_obj_min_wait = 60
rgw_gc_processor_period = 60
EOF
  for port in $RGW_PORTS; do
    cat >>"$CONF" <<EOF
[client.rgw.p$port]
rgw_frontends = beast endpoint=127.0.0.1:$port tcp_nodelay=1
rgw_data = $TB/rgw.p$port
EOF
  done
}

# make_tls_certs: the testbed CA and the https gateway's certificate, made once (kept across restarts, so clients
# that copied ca.pem keep trusting the gateway)
make_tls_certs() {
  [ -s "$TLS/server.pem" ] && [ -s "$TLS/ca.pem" ] && return 0
  mkdir -p "$TLS"
  local out=$LOG/tls-certs.out
  {
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=s3mount testbed CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout "$TLS/ca.key" -out "$TLS/ca.pem" &&
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$TLS/server.key" -out "$TLS/server.csr" &&
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$TLS/server.ext" &&
    openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial -days 3650 \
      -extfile "$TLS/server.ext" -out "$TLS/server.pem.tmp" &&
    mv "$TLS/server.pem.tmp" "$TLS/server.pem"
  } >"$out" 2>&1 || { tail_log "$out"; die "making the testbed's TLS certificates with openssl failed"; }
  say "made a CA and a server certificate in $TLS"
}

# The https gateway's section, appended to ceph.conf when missing (clusters built before it existed get it too;
# the daemons read ceph.conf when they start, so appending does not disturb those running).
add_tls_conf() {
  grep -q '^\[client\.rgw\.tls\]' "$CONF" && return 0
  cat >>"$CONF" <<EOF
[client.rgw.tls]
rgw_frontends = beast ssl_endpoint=127.0.0.1:$RGW_TLS_PORT ssl_certificate=$TLS/server.pem ssl_private_key=$TLS/server.key tcp_nodelay=1
rgw_data = $TB/rgw.tls
EOF
}

write_env() {
  local eps="" p first=${RGW_PORTS%% *}
  for p in $RGW_PORTS; do eps="$eps${eps:+ }http://127.0.0.1:$p"; done
  cat >"$TB/env.tmp" <<EOF
export AWS_ENDPOINT_URL=http://127.0.0.1:$first
export AWS_ACCESS_KEY_ID=$AK
export AWS_SECRET_ACCESS_KEY=$SK
export AWS_DEFAULT_REGION=us-east-1
export S3_BUCKET=$BUCKET
export S3_ENDPOINTS="$eps"
export S3_TEST_ENDPOINT=http://127.0.0.1:$first
export CEPH_CONF=$CONF
export S3MOUNT_TESTBED=$TB
export S3_TLS_ENDPOINT=https://127.0.0.1:$RGW_TLS_PORT
export S3_TLS_CA=$TLS/ca.pem
EOF
  mv "$TB/env.tmp" "$TB/env"
}

make_bucket() {
  local first=${RGW_PORTS%% *} code
  # RGW wants x-amz-content-sha256 on header-signed requests; curl's --aws-sigv4 does not add it
  code=$(curl -s -o "$LOG/mkbucket.out" -w '%{http_code}' --max-time 30 -X PUT \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK" \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    "http://127.0.0.1:$first/$BUCKET") || true
  case $code in
    200|409) ;;
    *) cat "$LOG/mkbucket.out" >&2 2>/dev/null; die "creating bucket $BUCKET failed: HTTP $code" ;;
  esac
}

cmd_start() {
  if all_up; then say "already running (endpoints: $RGW_PORTS; env: $TB/env)"; return 0; fi
  install_packages
  mkdir -p "$TB" "$LOG" "$PIDS" "$TB/run"
  exec 9>"$TB/.lock"
  flock -w 60 9 || die "another ceph.sh start holds $TB/.lock for more than 60 s"

  if ! alive mon.a && port_open "$MON_V2_PORT"; then
    die "127.0.0.1:$MON_V2_PORT is taken by a monitor this script did not start (another Ceph cluster on this machine?).
  Stop it first, or give this testbed other MON_PORTS, RGW_PORTS and RGW_TLS_PORT."
  fi
  local p
  for p in $RGW_PORTS; do
    if ! alive "rgw.p$p" && port_open "$p"; then die "127.0.0.1:$p is taken by another process"; fi
  done
  if ! alive rgw.tls && port_open "$RGW_TLS_PORT"; then die "127.0.0.1:$RGW_TLS_PORT is taken by another process"; fi

  # on failure, stop the daemons this run started (those that were already running keep running)
  STARTED=()
  trap 'rc=$?; if [ $rc -ne 0 ]; then say "FAILED (rc=$rc); stopping what this run started: ${STARTED[*]:-nothing}; logs in $LOG"; [ ${#STARTED[@]} -gt 0 ] && stop_daemons "${STARTED[@]}"; fi' EXIT

  if [ ! -f "$TB/.built" ]; then
    # a half-built cluster from an interrupted run is thrown away
    stop_all
    find "$TB" -mindepth 1 -maxdepth 1 ! -name log ! -name pids ! -name run ! -name .lock -exec rm -rf {} +
    say "building a new cluster in $TB ($OBJECTSTORE, ${OSD_SIZE_GB} GiB)"
    local fsid osd_uuid osd_id
    fsid=$(cat /proc/sys/kernel/random/uuid)
    write_conf "$fsid"
    ceph-authtool --create-keyring "$TB/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
    ceph-authtool "$TB/keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
      --cap mgr 'allow *' >/dev/null
    monmaptool --create --fsid "$fsid" --addv a "$MON_ADDRS" "$TB/monmap" >/dev/null
    mkdir -p "$TB/mon.a"
    ceph-mon --mkfs -i a --monmap "$TB/monmap" --keyring "$TB/keyring" >"$LOG/mon-mkfs.out" 2>&1 \
      || { tail_log "$LOG/mon-mkfs.out"; die "ceph-mon --mkfs failed"; }
    start_daemon mon.a ceph-mon -i a
    wait_for "monitor" "$LOG/mon.a.out" "$LOG/mon.a.log" -- ceph -s --connect-timeout 5
    say "mon up"
    osd_uuid=$(cat /proc/sys/kernel/random/uuid)
    osd_id=$(ceph osd new "$osd_uuid")
    [ "$osd_id" = 0 ] || die "unexpected OSD id $osd_id"
    mkdir -p "$TB/osd.0"
    ceph-osd -i 0 --mkfs --osd-uuid "$osd_uuid" >"$LOG/osd-mkfs.out" 2>&1 \
      || { tail_log "$LOG/osd-mkfs.out"; die "ceph-osd --mkfs failed"; }
    say "osd mkfs done"
  else
    start_daemon mon.a ceph-mon -i a
    wait_for "monitor" "$LOG/mon.a.out" "$LOG/mon.a.log" -- ceph -s --connect-timeout 5
    say "mon up"
  fi

  if [ "$WITH_MGR" = 1 ]; then mkdir -p "$TB/mgr.x"; start_daemon mgr.x ceph-mgr -i x; fi
  start_daemon osd.0 ceph-osd -i 0
  osd_up() { ceph osd stat -f json --connect-timeout 5 | grep -q '"num_up_osds":1'; }
  wait_for "osd.0" "$LOG/osd.0.out" "$LOG/osd.0.log" -- osd_up
  say "osd up"

  for p in $RGW_PORTS; do
    mkdir -p "$TB/rgw.p$p"
    start_daemon "rgw.p$p" radosgw -n "client.rgw.p$p"
  done
  make_tls_certs
  add_tls_conf
  mkdir -p "$TB/rgw.tls"
  start_daemon rgw.tls radosgw -n client.rgw.tls
  for p in $RGW_PORTS; do
    wait_for "radosgw on 127.0.0.1:$p" "$LOG/rgw.p$p.out" "$LOG/client.rgw.p$p.log" -- rgw_ok "$p"
  done
  wait_for "radosgw (https) on 127.0.0.1:$RGW_TLS_PORT" "$LOG/rgw.tls.out" "$LOG/client.rgw.tls.log" -- rgw_tls_ok
  say "radosgw up on $RGW_PORTS, https on $RGW_TLS_PORT"

  if [ ! -f "$TB/.built" ]; then
    radosgw-admin user info --uid=tester >/dev/null 2>&1 ||
      radosgw-admin user create --uid=tester --display-name=tester --access-key="$AK" --secret-key="$SK" \
        >"$LOG/user-create.out" 2>&1 || { tail_log "$LOG/user-create.out"; die "radosgw-admin user create failed"; }
  fi
  make_bucket
  write_env
  touch "$TB/.built"
  trap - EXIT
  say "ready: S3 on $(. "$TB/env"; echo "$S3_ENDPOINTS"), bucket $BUCKET; env file: $TB/env"
}

# restart-rgw PORT: one gateway of a running cluster, killed (SIGCONT first, in case it was stopped) and started
# again; the failover tests use it to bring back a gateway they killed. The other gateways, mon and osd are untouched.
cmd_restart_rgw() {
  local port=$1 name="rgw.p$1" p i
  case " $RGW_PORTS " in *" $port "*) ;; *) die "no gateway on port $port (RGW_PORTS: $RGW_PORTS)" ;; esac
  [ -f "$TB/.built" ] || die "no cluster in $TB; run: $0 start"
  p=$(pid_of "$name" 2>/dev/null || true)
  if pid_alive "$p" "$name"; then
    kill -CONT "$p" 2>/dev/null || true
    kill -9 "$p" 2>/dev/null || true
    for i in $(seq 1 100); do pid_alive "$p" "$name" || break; sleep 0.1; done
  fi
  rm -f "$PIDS/$name"
  STARTED=()
  start_daemon "$name" radosgw -n "client.$name"
  wait_for "radosgw on 127.0.0.1:$port" "$LOG/$name.out" "$LOG/client.$name.log" -- rgw_ok "$port"
  say "radosgw on 127.0.0.1:$port restarted"
}

case "${1:-start}" in
  start) cmd_start ;;
  restart-rgw) cmd_restart_rgw "${2:?usage: $0 restart-rgw PORT}" ;;
  stop) stop_all; say "stopped (data kept in $TB)" ;;
  purge) stop_all; rm -rf "$TB"; say "purged $TB" ;;
  env) [ -f "$TB/env" ] || die "no env file; run: $0 start"; cat "$TB/env" ;;
  packages) echo "$CEPH_PACKAGES" ;;
  status) if all_up; then echo "running: $TB"; else echo "not running: $TB"; exit 1; fi ;;
  *) echo "usage: $0 [start|stop|purge|env|status|packages|restart-rgw PORT]" >&2; exit 2 ;;
esac
