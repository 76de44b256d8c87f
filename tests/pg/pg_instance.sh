#!/usr/bin/env bash
# A throwaway PostgreSQL instance for the tests, on loopback, in a directory of the test's:
#   pg_instance.sh start DIR PORT   initdb + start (no Unix socket; trust on 127.0.0.1 only)
#   pg_instance.sh stop DIR         stop it (immediate: the directory is thrown away)
#   pg_instance.sh standby DIR PORT PRIMARY_PORT   a streaming standby of the instance on PRIMARY_PORT
#   pg_instance.sh kill DIR         kill -9 its postmaster and backends (the machine's loss, as clients see it)
#   pg_instance.sh promote DIR      promote a standby (what Patroni does after a failover decision)
#   pg_instance.sh restart DIR PORT start a killed or stopped instance again (crash recovery)
# PostgreSQL refuses to run as root, and CI runs as root: then the instance runs as the
# `postgres` user (created by Debian's postgresql package), which gets the directory.
set -euo pipefail
cmd=${1:?start|stop} dir=${2:?DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -x $bin/initdb ]] || { echo "pg_instance.sh: PostgreSQL is not installed (scripts/install-deps.sh --test)" >&2; exit 1; }
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  as_pg=(runuser -u postgres --)
  if [[ $cmd == start || $cmd == standby ]]; then chown postgres "$dir"; fi
fi
case $cmd in
  start)
    port=${3:?PORT}
    "${as_pg[@]}" "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    # fsync off: the tests check the log's rules, not the disk's; the benchmarks keep it on.
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=200" \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    ;;
  standby)
    port=${3:?PORT} primary=${4:?PRIMARY_PORT}
    "${as_pg[@]}" "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary" -U postgres -D "$dir/data" -R -X stream \
      --no-sync >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; exit 1; }
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=200" \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    ;;
  restart)
    port=${3:?PORT}
    rm -f "$dir/data/postmaster.pid"
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=200" \
      >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    ;;
  kill)
    # The postmaster and every backend at once, as when the machine goes: backends left alone
    # would go on committing for a moment.
    pid=$(head -1 "$dir/data/postmaster.pid")
    kill -9 "$pid" $(pgrep -P "$pid") 2>/dev/null || true
    ;;
  promote)
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -w -t 60 promote >/dev/null
    ;;
  stop)
    [[ -f $dir/data/postmaster.pid ]] || exit 0
    "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    ;;
  *) echo "pg_instance.sh: start|stop" >&2; exit 2 ;;
esac
