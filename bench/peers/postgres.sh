#!/usr/bin/env bash
# The PostgreSQL peer of bench/run.sh: a private PostgreSQL 15 cluster in a temporary directory,
# listening on 127.0.0.1 (and a Unix socket inside the directory) only, with the default
# durability (fsync on, synchronous_commit on), holding one event table like tokenledger's log.
#
#   bench/peers/postgres.sh start DIR PORT     initdb DIR/data, start, create the events table
#   bench/peers/postgres.sh stop DIR           stop it (fast shutdown); no error if not running
#   bench/peers/postgres.sh reset DIR PORT     empty the table and checkpoint (before each run)
#   bench/peers/postgres.sh pgbench DIR PORT CLIENTS SECONDS
#                                              one pgbench run of bench/peers/pg_append.sql,
#                                              prints pgbench's output (tps = … line)
#
# PostgreSQL refuses to run as root: when this script runs as root, the server (initdb, pg_ctl)
# runs as the `postgres` OS user, and DIR is made its own. pgbench and psql are clients and
# connect over the Unix socket in DIR as the database user `postgres` (trust auth, local only).
set -euo pipefail

cmd=${1:?usage: postgres.sh start|stop|reset|pgbench DIR [PORT ...]}
dir=${2:?DIR missing}
here=$(cd "$(dirname "$0")" && pwd)

pgbin=""
for v in 15 16 17 14 13; do
  if [[ -x /usr/lib/postgresql/$v/bin/initdb ]]; then pgbin=/usr/lib/postgresql/$v/bin; break; fi
done
[[ -n "$pgbin" ]] || { echo "postgres.sh: no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)" >&2; exit 1; }

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_() { # PORT SQL
  psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$1" -U postgres -d postgres -c "$2"
}

case "$cmd" in
  start)
    port=${3:?PORT missing}
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then
      id postgres >/dev/null 2>&1 || { echo "postgres.sh: no 'postgres' OS user (install postgresql)" >&2; exit 1; }
      chown postgres: "$dir"
      runuser -u postgres -- test -w "$dir" ||
        { echo "postgres.sh: user postgres cannot write $dir (a parent directory is not searchable)" >&2; exit 1; }
    fi
    # --no-sync only skips initdb's own final flush of the empty cluster; the server itself keeps
    # fsync=on and synchronous_commit=on below.
    as_pg "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
      as_pg "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<EOF

# bench/peers/postgres.sh: private, loopback only, default durability
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 100
logging_collector = off
EOF
    as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    psql_ "$port" "create table events(
        seq bigserial primary key,
        stream text not null,
        version int not null,
        at timestamptz not null default now(),
        data jsonb not null,
        unique(stream, version))"
    ;;
  stop)
    if [[ -f "$dir/data/postmaster.pid" ]]; then
      as_pg "$pgbin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || {
        # pg_ctl could not stop it: end the postmaster by its own pid file.
        pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null || true)
        [[ -n "$pid" ]] && kill -QUIT "$pid" 2>/dev/null || true
      }
    fi
    ;;
  reset)
    port=${3:?PORT missing}
    psql_ "$port" "truncate events restart identity"
    psql_ "$port" "checkpoint"
    ;;
  pgbench)
    port=${3:?PORT missing}
    clients=${4:?CLIENTS missing}
    seconds=${5:?SECONDS missing}
    # -n: no vacuum of pgbench's own tables (there are none); -j 2: two client threads.
    pgbench -n -h "$dir" -p "$port" -U postgres -c "$clients" -j 2 -T "$seconds" \
      -f "$here/pg_append.sql" postgres
    ;;
  *)
    echo "postgres.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
