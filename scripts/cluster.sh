#!/usr/bin/env bash
# tokenledger on more than one machine, on this one (issue 19): etcd, three PostgreSQL 15 under
# Patroni 3.0 in strict synchronous mode (a commit is acknowledged on the leader and one
# synchronous standby), and two tokenledger nodes on the same log, all on 127.0.0.1.
#
#   scripts/cluster.sh up       installs what is missing, builds, starts everything, prints status
#   scripts/cluster.sh status   JSON: {"postgres":[{"name","role","pid","port"}],
#                               "tokenledger":[{"url","pid"}],"admin_password","introspection_secret",
#                               "metrics_secret"}
#   scripts/cluster.sh down     stops everything it started and removes its directory
#
# Where: $TOKENLEDGER_CLUSTER_DIR (default /tmp/tokenledger-cluster); ports from
# $TOKENLEDGER_CLUSTER_PORT (default 25400): etcd +0/+1, PostgreSQL +11..13, Patroni REST
# +21..23, tokenledger +31/+32. PostgreSQL refuses to run as root: as root, etcd, Patroni and
# PostgreSQL run as the `postgres` user (Debian's postgresql package makes it).
# Patroni's settings are tuned for loopback (ttl 6, loop_wait 1, retry_timeout 2, no slots,
# primary_start_timeout 0 so that a killed leader fails over instead of restarting in place);
# ../shared/notes/patroni-loopback.md has the measurements behind them.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
BASE=${TOKENLEDGER_CLUSTER_DIR:-/tmp/tokenledger-cluster}
BP=${TOKENLEDGER_CLUSTER_PORT:-25400}
PG_BIN=/usr/lib/postgresql/15/bin
PY=/usr/bin/python3  # Debian's: it has yaml and psycopg2, which Patroni uses
TL_BIN=$REPO/build/release/http/tokenledger
pg_port() { echo $((BP + 10 + $1)); }
rest_port() { echo $((BP + 20 + $1)); }
tl_port() { echo $((BP + 30 + $1)); }

log() { echo "cluster.sh: $*" >&2; }
die() { log "$*"; exit 1; }

if [[ $(id -u) -eq 0 ]]; then
  RUN_USER=postgres
  AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups env HOME="$BASE" USER=postgres)
else
  RUN_USER=$(id -un)
  AS_PG=(env HOME="$BASE")
fi

alive() {  # pidfile cmd-substring
  local pid
  [[ -s $1 ]] || return 1
  pid=$(head -1 "$1")
  [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

start_bg() {  # pidfile logfile cmd... (the pid file holds the daemon's own pid: setpriv and exec do not fork)
  local pidfile=$1 logfile=$2
  shift 2
  rm -f "$pidfile"
  : >>"$logfile" && chmod 600 "$logfile"  # logs name users and addresses: not for other accounts
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null &
  for _ in $(seq 50); do [[ -s $pidfile ]] && return 0; sleep 0.1; done
}

http_get() { curl -fsS --max-time 2 "$1"; }

cluster_json() {  # any live node's view of the Patroni cluster
  for n in 1 2 3; do http_get "http://127.0.0.1:$(rest_port "$n")/cluster" 2>/dev/null && return 0; done
  return 1
}

write_patroni_config() {  # node number
  local n=$1 dir=$BASE/node$1
  mkdir -p "$dir/pglog"
  cat >"$dir/patroni.yml" <<EOF
scope: tokenledger
namespace: /service/
name: node$n
restapi:
  listen: 127.0.0.1:$(rest_port "$n")
  connect_address: 127.0.0.1:$(rest_port "$n")
etcd3:
  hosts: 127.0.0.1:$BP
bootstrap:
  dcs:
    ttl: 6
    loop_wait: 1
    retry_timeout: 2
    primary_start_timeout: 0
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    synchronous_mode_strict: true
    synchronous_node_count: 1
    postgresql:
      use_pg_rewind: true
      use_slots: false
      remove_data_directory_on_rewind_failure: true
      remove_data_directory_on_diverged_timelines: true
      parameters:
        max_connections: 100
        shared_buffers: 32MB
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_keep_size: 256MB
        synchronous_commit: "on"
        wal_retrieve_retry_interval: 500ms
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
postgresql:
  listen: 127.0.0.1:$(pg_port "$n")
  connect_address: 127.0.0.1:$(pg_port "$n")
  data_dir: $dir/data
  bin_dir: $PG_BIN
  pgpass: $dir/pgpass
  authentication:
    superuser: {username: postgres, password: $(cat "$BASE/pg.password")}
    replication: {username: replicator, password: $(cat "$BASE/pg.password")}
    rewind: {username: rewinder, password: $(cat "$BASE/pg.password")}
  parameters:
    unix_socket_directories: $dir
    logging_collector: "on"
    log_directory: $dir/pglog
    log_filename: postgresql.log
  basebackup:
    checkpoint: fast
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 scram-sha-256
    - host replication replicator 127.0.0.1/32 scram-sha-256
watchdog:
  mode: "off"
EOF
  chmod 600 "$dir/patroni.yml"
}

# True once there is a leader, a synchronous standby and a replica, all running.
cluster_healthy() {
  cluster_json 2>/dev/null | "$PY" -c '
import json, sys
m = json.load(sys.stdin).get("members", [])
roles = sorted(x["role"] for x in m)
ok = roles == ["leader", "replica", "sync_standby"] and all(x["state"] in ("running", "streaming") for x in m)
sys.exit(0 if ok else 1)' 2>/dev/null
}

pg_url() {  # the log's URL: every PostgreSQL node, the writable one found by libpq
  echo "postgresql://postgres:$(cat "$BASE/pg.password")@127.0.0.1:$(pg_port 1),127.0.0.1:$(pg_port 2),127.0.0.1:$(pg_port 3)/tokenledger?target_session_attrs=read-write&connect_timeout=2"
}

start_node() {  # tokenledger node number
  local n=$1 data=$BASE/tl$1
  mkdir -p "$data" && chmod 700 "$data"
  TOKENLEDGER_PG_URL=$(pg_url) TOKENLEDGER_ADMIN_PASSWORD=$(cat "$BASE/admin.password") \
    TOKENLEDGER_INTROSPECTION_SECRET=$(cat "$BASE/introspection.secret") \
    start_bg "$BASE/tl$n.pid" "$BASE/tl$n.log" "$TL_BIN" --data "$data" --listen "127.0.0.1:$(tl_port "$n")" \
    --metrics-secret-file "$BASE/metrics.secret"
  for _ in $(seq 600); do
    grep -q "listening on" "$BASE/tl$n.log" 2>/dev/null && return 0
    alive "$BASE/tl$n.pid" tokenledger || { tail -20 "$BASE/tl$n.log" >&2; die "tokenledger node $n did not start"; }
    sleep 0.1
  done
  die "tokenledger node $n did not say it was listening within 60 s (see $BASE/tl$n.log)"
}

up() {
  if alive "$BASE/etcd.pid" etcd; then die "already up in $BASE (scripts/cluster.sh down first)"; fi
  scripts/install-deps.sh --cluster
  cmake --preset release >/dev/null
  cmake --build --preset release --target tokenledger tokenledger-admin
  for port in $BP $((BP + 1)) $(pg_port 1) $(pg_port 2) $(pg_port 3) $(rest_port 1) $(rest_port 2) $(rest_port 3) \
    $(tl_port 1) $(tl_port 2); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port is in use (TOKENLEDGER_CLUSTER_PORT picks another base)"
    fi
  done
  rm -rf "$BASE" && mkdir -p "$BASE" && chmod 711 "$BASE"
  head -c 18 /dev/urandom | base64 | tr '+/' 'xy' >"$BASE/pg.password"
  head -c 18 /dev/urandom | base64 | tr '+/' 'xy' >"$BASE/admin.password"
  head -c 24 /dev/urandom | base64 | tr '+/' 'xy' >"$BASE/introspection.secret"
  head -c 24 /dev/urandom | base64 | tr '+/' 'xy' >"$BASE/metrics.secret"
  chmod 600 "$BASE"/*.password "$BASE"/*.secret
  mkdir -p "$BASE/etcd" && chmod 700 "$BASE/etcd"
  for n in 1 2 3; do mkdir -p "$BASE/node$n" && chmod 700 "$BASE/node$n"; write_patroni_config "$n"; done
  if [[ $(id -u) -eq 0 ]]; then chown -R "$RUN_USER:" "$BASE/etcd" "$BASE"/node?; fi
  log "etcd on 127.0.0.1:$BP"
  start_bg "$BASE/etcd.pid" "$BASE/etcd.log" "${AS_PG[@]}" /usr/bin/etcd --name tokenledger-etcd \
    --data-dir "$BASE/etcd" --listen-client-urls "http://127.0.0.1:$BP" --advertise-client-urls "http://127.0.0.1:$BP" \
    --listen-peer-urls "http://127.0.0.1:$((BP + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((BP + 1))" \
    --initial-cluster "tokenledger-etcd=http://127.0.0.1:$((BP + 1))" --initial-cluster-state new \
    --logger=zap --log-outputs=stderr --log-level=warn
  for _ in $(seq 100); do http_get "http://127.0.0.1:$BP/health" 2>/dev/null | grep -q '"health":"true"' && break; sleep 0.2; done
  log "three PostgreSQL 15 under Patroni (strict synchronous mode)"
  for n in 1 2 3; do
    start_bg "$BASE/node$n/patroni.pid" "$BASE/node$n/patroni.log" "${AS_PG[@]}" /usr/bin/patroni "$BASE/node$n/patroni.yml"
  done
  local deadline=$(($(date +%s) + 180))
  until cluster_healthy; do
    [[ $(date +%s) -lt $deadline ]] || { tail -20 "$BASE"/node?/patroni.log >&2; die "the PostgreSQL cluster did not become healthy in 180 s"; }
    sleep 0.5
  done
  local leader
  leader=$(cluster_json | "$PY" -c 'import json,sys; print([m["port"] for m in json.load(sys.stdin)["members"] if m["role"]=="leader"][0])')
  PGPASSWORD=$(cat "$BASE/pg.password") psql -h 127.0.0.1 -p "$leader" -U postgres -qAtc "CREATE DATABASE tokenledger" postgres
  # Until every member has replayed it: libpq tries the hosts of the URL in order and stops at
  # the first that answers "database does not exist" (an asynchronous replica a moment behind).
  for n in 1 2 3; do
    for _ in $(seq 100); do
      PGPASSWORD=$(cat "$BASE/pg.password") psql -h 127.0.0.1 -p "$(pg_port "$n")" -U postgres -qAtc "SELECT 1" \
        tokenledger >/dev/null 2>&1 && break
      sleep 0.2
    done
  done
  log "tokenledger node 1 on 127.0.0.1:$(tl_port 1)"
  start_node 1
  # Nodes share the master key and the signing key (the key check value in the log makes a node
  # with another master key refuse to start).
  mkdir -p "$BASE/tl2" && chmod 700 "$BASE/tl2"
  cp -p "$BASE/tl1/master.key" "$BASE/tl1/signing.key" "$BASE/tl2/"
  log "tokenledger node 2 on 127.0.0.1:$(tl_port 2)"
  start_node 2
  status
}

status() {
  [[ -d $BASE ]] || die "nothing is up ($BASE does not exist)"
  local members
  members=$(cluster_json 2>/dev/null || echo '{"members":[]}')
  BASE=$BASE MEMBERS=$members TL1="http://127.0.0.1:$(tl_port 1)" TL2="http://127.0.0.1:$(tl_port 2)" "$PY" - <<'EOF'
import json, os
base = os.environ["BASE"]
def pid(path):
    try:
        with open(path) as f:
            p = int(f.readline())
        os.kill(p, 0)
        return p
    except Exception:
        return None
postgres = []
for m in json.loads(os.environ["MEMBERS"]).get("members", []):
    postgres.append({"name": m["name"], "role": m["role"], "pid": pid(os.path.join(base, m["name"], "data", "postmaster.pid")),
                     "port": m["port"]})
nodes = [{"url": os.environ["TL%d" % n], "pid": pid(os.path.join(base, "tl%d.pid" % n))} for n in (1, 2)]
read = lambda name: open(os.path.join(base, name)).read().strip()
print(json.dumps({"postgres": postgres, "tokenledger": nodes, "admin_password": read("admin.password"),
                  "introspection_secret": read("introspection.secret"), "metrics_secret": read("metrics.secret")},
                 indent=2))
EOF
}

stop_pid() {  # pidfile cmd-substring
  local pid
  alive "$1" "$2" || return 0
  pid=$(head -1 "$1")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 300); do [[ -e /proc/$pid ]] || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

down() {
  [[ -d $BASE ]] || { log "nothing is up"; return 0; }
  for n in 1 2; do stop_pid "$BASE/tl$n.pid" tokenledger; done
  for n in 1 2 3; do stop_pid "$BASE/node$n/patroni.pid" patroni; done
  for n in 1 2 3; do  # a postmaster whose Patroni died
    [[ -f $BASE/node$n/data/postmaster.pid ]] && kill -INT "$(head -1 "$BASE/node$n/data/postmaster.pid")" 2>/dev/null || true
  done
  stop_pid "$BASE/etcd.pid" etcd
  rm -rf "$BASE"
  log "down"
}

case ${1:-} in
  up) up ;;
  status) status ;;
  down) down ;;
  *) echo "usage: scripts/cluster.sh up|status|down" >&2; exit 2 ;;
esac
