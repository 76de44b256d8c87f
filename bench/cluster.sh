#!/usr/bin/env bash
# The rows of tokenledger on more than one machine (issue 19, item 7), on the cluster of
# scripts/cluster.sh (etcd, three PostgreSQL 15 under Patroni in strict synchronous mode, two
# tokenledger nodes, all on loopback): each figure the median (min–max) of --runs runs, each
# ratio taken per run between two figures measured back to back.
#
#   bench/cluster.sh [--runs R] [--seconds S] [--failovers F] [--out FILE] [--no-build]
#
#   C1  appends/s on the PostgreSQL log, 32 appenders (bench_store --log, BM_DurableAppend) vs
#       pgbench inserting rows of the same size, one per transaction, 32 clients, on the same
#       leader with the same durability (synchronous_commit on, one synchronous standby)
#   C2  introspection/s, 64 connections: node 1 alone, then nodes 1 and 2 at once (32 each)
#   C3  follower lag under write load (bench/follow_lag.py): p50 and p99 in ms
#   C4  write outage of a failover: tests/cluster/failover.py leader, --failovers times
#
# Starts the cluster when it is not up (and stops it at the end); uses it as it is otherwise.
# Progress goes to stderr; stdout carries the command, the machine and the table.
set -euo pipefail
CALLER_PWD=$PWD
cd "$(dirname "$0")/.."
ROOT=$PWD
cmdline="bench/cluster.sh"
for a in "$@"; do cmdline+=" $(printf '%q' "$a")"; done
runs=5 seconds=10 failovers=3 out="" no_build=0
while (($#)); do
  case "$1" in
    --runs) runs=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --failovers) failovers=$2; shift ;;
    --out) out=$2; shift ;;
    --no-build) no_build=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cluster.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -n "$out" && "$out" != /* ]]; then out=$CALLER_PWD/$out; fi
BASE=${TOKENLEDGER_CLUSTER_DIR:-/tmp/tokenledger-cluster}
log() { echo "[cluster-bench $(date -u +%H:%M:%S)] $*" >&2; }
tb() { python3 "$ROOT/bench/tlbench.py" "$@"; }

scripts/install-deps.sh --cluster --bench >&2
if ((!no_build)); then
  cmake --preset release >&2
  cmake --build --preset release --target tokenledger tokenledger-admin bench_store >&2
fi
STORE=$ROOT/build/release/bench/bench_store

started=0
WORK=$(mktemp -d /tmp/tokenledger-cluster-bench.XXXXXX)
cleanup() {
  local rc=$?
  set +e
  ((started)) && scripts/cluster.sh down >&2
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM
if ! scripts/cluster.sh status >/dev/null 2>&1 || [[ ! -s $BASE/etcd.pid ]]; then
  log "starting the cluster (scripts/cluster.sh up)"
  started=1
  scripts/cluster.sh up >&2
fi
scripts/cluster.sh status >"$WORK/status.json"
field() { python3 -c "import json,sys; d=json.load(open('$WORK/status.json')); print($1)"; }
NODE1=$(field 'd["tokenledger"][0]["url"]')
NODE2=$(field 'd["tokenledger"][1]["url"]')
LEADER=$(field '[m["port"] for m in d["postgres"] if m["role"]=="leader"][0]')
ADMIN_PW=$(field 'd["admin_password"]')
field 'd["introspection_secret"]' >"$WORK/secret"
PGPASSWORD=$(cat "$BASE/pg.password")
export PGPASSWORD
PORTS=$(field '",".join("127.0.0.1:%d" % m["port"] for m in d["postgres"])')
# Accounts of this run (a cluster left up keeps the last run's, and their live tokens).
BENCH_USER=clusterbench$$ LAG_USER=clusterlag$$
RES=$WORK/results.jsonl
: >"$RES"
psql_() { psql -h 127.0.0.1 -p "$LEADER" -U postgres -qAtc "$1" "${2:-postgres}"; }

# ---------------------------------------------------------------- C1
psql_ "CREATE DATABASE tlpeer" && psql_ "create table events(seq bigserial primary key, stream text not null,
  version int not null, data jsonb not null, unique (stream, version))" tlpeer
for ((k = 1; k <= runs; k++)); do
  log "C1: run $k of $runs: bench_store --log (32 appenders), then pgbench (32 clients), $seconds s each"
  psql_ "CREATE DATABASE tlbench$k"
  rc=0
  "$STORE" --log "postgresql://postgres:$PGPASSWORD@$PORTS/tlbench$k?target_session_attrs=read-write" \
    --benchmark_filter=BM_DurableAppend --benchmark_min_time="$seconds" \
    --benchmark_out="$WORK/append.$k.json" --benchmark_out_format=json >"$WORK/append.$k.log" 2>&1 || rc=$?
  tb gbench --results "$RES" --run "$k" --file "$WORK/append.$k.json" --log "$WORK/append.$k.log" --rc "$rc" \
    --take 'BM_DurableAppend:items_per_second:c1.tl' || log "C1: bench_store failed (run $k)"
  psql_ "DROP DATABASE tlbench$k WITH (FORCE)"
  psql_ "truncate events restart identity" tlpeer
  pgbench -n -h 127.0.0.1 -p "$LEADER" -U postgres -c 32 -j 2 -T "$seconds" -f bench/peers/pg_append.sql tlpeer \
    >"$WORK/pgbench.$k.log" 2>&1 || true
  tb pgbench --results "$RES" --run "$k" --metric c1.pg --file "$WORK/pgbench.$k.log" || log "C1: pgbench failed (run $k)"
done
psql_ "DROP DATABASE tlpeer WITH (FORCE)"

# ---------------------------------------------------------------- C2
log "C2: 90 tokens through node 1, then the introspection bodies"
tb http-dataset --url "$NODE1" --admin-password "$ADMIN_PW" --user "$BENCH_USER" --password "cluster bench password 1" \
  --tokens 90 --codes-out "$WORK/codes" >"$WORK/dataset.log" 2>&1 || { tail -3 "$WORK/dataset.log" >&2; exit 1; }
tb prepare --url "$NODE1" --user "$BENCH_USER" --password "cluster bench password 1" --secret-file "$WORK/secret" \
  --codes "$WORK/codes" --out-dir "$WORK/http" >"$WORK/prepare.log" 2>&1 || { tail -3 "$WORK/prepare.log" >&2; exit 1; }
wrk_() { # NAME URL CONNECTIONS
  wrk -t1 -c"$3" -d"${seconds}s" --latency -s bench/wrk/requests.lua "$2/api/v1/introspect" -- introspect \
    "$WORK/secret" "$WORK/http/introspect_bodies" >"$WORK/$1.log" 2>&1 || true
}
for ((k = 1; k <= runs; k++)); do
  log "C2: run $k of $runs: node 1 alone (64 connections), then both nodes (32 each), $seconds s each"
  wrk_ "one.$k" "$NODE1" 64
  tb wrk --results "$RES" --run "$k" --file "$WORK/one.$k.log" --rps-metric c2.one --p99-metric c2.one_p99 || true
  wrk_ "both1.$k" "$NODE1" 32 &
  wrk_ "both2.$k" "$NODE2" 32
  wait
  tb wrk --results "$RES" --run "$k" --file "$WORK/both1.$k.log" --rps-metric c2.both1 || true
  tb wrk --results "$RES" --run "$k" --file "$WORK/both2.$k.log" --rps-metric c2.both2 || true
done

# ---------------------------------------------------------------- C3
# An account of its own: the introspection account holds 90 of the --max-tokens-per-user live tokens.
tb http-dataset --url "$NODE1" --admin-password "$ADMIN_PW" --user "$LAG_USER" --password "cluster lag password 1" \
  --tokens 0 --codes-out "$WORK/lag.codes" >"$WORK/lag.log" 2>&1 || { tail -3 "$WORK/lag.log" >&2; exit 1; }
for ((k = 1; k <= runs; k++)); do
  log "C3: run $k of $runs: follower lag, writes through node 1, probes read on node 2, $seconds s"
  python3 bench/follow_lag.py --a "$NODE1" --b "$NODE2" --user "$LAG_USER" --password "cluster lag password 1" \
    --seconds "$seconds" --results "$RES" --run "$k" || log "C3: run $k failed"
done

# ---------------------------------------------------------------- C4
for ((k = 1; k <= failovers; k++)); do
  log "C4: failover $k of $failovers: tests/cluster/failover.py leader"
  rc=0
  python3 tests/cluster/failover.py leader --seed "$k" >"$WORK/failover.$k.json" 2>"$WORK/failover.$k.log" || rc=$?
  python3 - "$RES" "$k" "$WORK/failover.$k.json" "$rc" <<'EOF'
import json, sys
sys.path.insert(0, "bench")
from tlbench import emit
res, k, path, rc = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
try:
    d = json.load(open(path))
except ValueError:
    emit(res, "c4.outage", k, error="failover.py gave no report")
    sys.exit(0)
if rc != 0 or d["failures"]:
    emit(res, "c4.outage", k, error="; ".join(d["failures"])[:300] or f"exit {rc}")
else:
    emit(res, "c4.outage", k, max(d["write_outage_seconds"]), acknowledged=d["acknowledged"],
         patroni=d["patroni_healthy_after_seconds"])
EOF
done

python3 bench/cluster_report.py --results "$RES" --command "$cmdline" | tee ${out:+"$out"}
