#!/usr/bin/env bash
# Runs every benchmark of tokenledger next to its comparison (issue 5) and prints the markdown
# table of the README: each figure is the median (min–max) of --runs runs, each ratio is taken
# per run between two figures measured back to back in that run.
#
#   bench/run.sh [--tiny] [--events N] [--runs R] [--seconds S] [--build-dir DIR] [--out FILE]
#                [--rows 1,2,…] [--old-samples N] [--no-build] [--no-install] [--keep]
#                [--work-dir PARENT]
#
#   --tiny         CI smoke test: every bench once at a tiny size (a minute or two); judges no
#                  speed but fails when a bench crashes or gives no figure
#   --events N     events of the generated data set (rows 2–5, 7, 10, 11) [10000000; tiny 20000]
#   --runs R       runs of every figure                                   [5; tiny 1]
#   --seconds S    length of each wrk and pgbench run                     [10; tiny 1]
#   --build-dir D  where the binaries are; build/release is (re)built with the release preset,
#                  another configured directory with `cmake --build D`    [build/release]
#   --out FILE     also write the markdown (machine, command, table) to FILE
#   --rows LIST    only these rows (development), e.g. --rows 1,3
#   --old-samples N  requests per run of rows 10 and 11's whole-log columns (each one folds or
#                  walks the whole log: ~13 s and ~230 s at 10 M events)    [3; tiny 2]
#   --no-build / --no-install   skip the build / scripts/install-deps.sh --bench
#   --keep         keep the temporary directory (data sets, logs, raw results)
#   --work-dir P   parent of the temporary directory                      [$TMPDIR or /tmp]
#
# The peers run on loopback on private ports, from a temporary directory, and are stopped on
# exit, failure or Ctrl-C: PostgreSQL 15 (bench/peers/postgres.sh), nginx (bench/peers/nginx.sh).
# Progress goes to stderr; stdout carries the command, the machine and the table.
set -euo pipefail
CALLER_PWD=$PWD
cd "$(dirname "$0")/.."
ROOT=$PWD
BENCH=$ROOT/bench

cmdline="bench/run.sh"
for a in "$@"; do cmdline+=" $(printf '%q' "$a")"; done

tiny=0 events="" runs="" seconds="" build_dir=build/release out="" rows_sel="1,2,3,4,5,6,7,10,11,12"
no_build=0 no_install=0 keep=0 work_parent=${TMPDIR:-/tmp} old_samples_opt=""
while (($#)); do
  case "$1" in
    --tiny) tiny=1 ;;
    --events) events=$2; shift ;;
    --runs) runs=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --build-dir) build_dir=${2%/}; shift ;;
    --out) out=$2; shift ;;
    --rows) rows_sel=$2; shift ;;
    --old-samples) old_samples_opt=$2; shift ;;
    --no-build) no_build=1 ;;
    --no-install) no_install=1 ;;
    --keep) keep=1 ;;
    --work-dir) work_parent=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if ((tiny)); then
  events=${events:-20000} runs=${runs:-1} seconds=${seconds:-1}
  codes=200 mem_tokens="" dbb_num=5000 warmup=0
  asof_samples=20 verify_samples=20 old_samples=2
else
  events=${events:-10000000} runs=${runs:-5} seconds=${seconds:-10}
  codes=1000 mem_tokens=1000000 dbb_num=$((50000 * seconds)) warmup=2
  asof_samples=200 verify_samples=200 old_samples=3
fi
old_samples=${old_samples_opt:-$old_samples}
[[ "$build_dir" = /* ]] || build_dir=$ROOT/$build_dir
# --out and --work-dir are relative to where the script was called from, --build-dir to the tree.
if [[ -n "$out" && "$out" != /* ]]; then out=$CALLER_PWD/$out; fi
if [[ "$work_parent" != /* ]]; then work_parent=$CALLER_PWD/$work_parent; fi
row_on() { [[ ",$rows_sel," == *",$1,"* ]]; }

t_start=$(date +%s)
echo "Command: \`$cmdline\`" >&2  # the report repeats it above the table
log() { echo "[bench $(date -u +%H:%M:%S)] $*" >&2; }
failures=()
fail() { failures+=("$*"); log "FAILED: $*"; }

# ------------------------------------------------------------------------------ dependencies, build
if ((!no_install)); then
  log "dependencies: scripts/install-deps.sh --bench"
  scripts/install-deps.sh --bench >&2
fi
if ((!no_build)); then
  log "build: $build_dir"
  # Only what the benchmarks run: the server, the generator and the two Google Benchmark binaries.
  targets=(--target tokenledger tokenledger-bench-gen bench_store bench_memory)
  if [[ "$build_dir" == "$ROOT/build/release" ]]; then
    cmake --preset release >&2 && cmake --build --preset release "${targets[@]}" >&2
  elif [[ -f "$build_dir/CMakeCache.txt" ]]; then
    cmake --build "$build_dir" "${targets[@]}" >&2
  else
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2 &&
      cmake --build "$build_dir" "${targets[@]}" >&2
  fi
fi
SERVER=$build_dir/http/tokenledger
GEN=$build_dir/bench/tokenledger-bench-gen
STORE=$build_dir/bench/bench_store
MEMB=$build_dir/bench/bench_memory
[[ -x "$SERVER" ]] || { echo "run.sh: no server binary $SERVER" >&2; exit 1; }

# ------------------------------------------------------------------------------ work dir, cleanup
mkdir -p "$work_parent"
WORK=$(mktemp -d "$work_parent/tokenledger-bench.XXXXXX")
chmod 711 "$WORK" # the postgres OS user must reach $WORK/pg
RES=$WORK/results.jsonl
: >"$RES"
SERVER_PID=""
PG_UP=0 NGINX_UP=0

stop_pid() { # PID [seconds]: SIGTERM, then SIGKILL after the grace time
  local pid=$1 grace=${2:-120} i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < grace * 20; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.05
  done
  log "pid $pid did not stop in ${grace} s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  [[ -n "$SERVER_PID" ]] && stop_pid "$SERVER_PID"
  [[ -s "$WORK/startup.pid" ]] && stop_pid "$(cat "$WORK/startup.pid")"
  ((NGINX_UP)) && "$BENCH/peers/nginx.sh" stop "$WORK/nginx"
  ((PG_UP)) && "$BENCH/peers/postgres.sh" stop "$WORK/pg"
  if ((keep)); then log "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT
trap 'log "terminated"; exit 143' TERM

free_port() { # preferred port if free on 127.0.0.1, else any free one
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}
PG_PORT=$(free_port 55432)
NGINX_PORT=$(free_port 58080)
TL_PORT=$(free_port 58081)

tb() { python3 "$BENCH/tlbench.py" "$@"; }
record_error() { tb record --results "$RES" --metric "$1" --run "$2" --error "$3"; }

# An introspection secret of our own, for every server this script starts.
TOKENLEDGER_INTROSPECTION_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export TOKENLEDGER_INTROSPECTION_SECRET
echo "$TOKENLEDGER_INTROSPECTION_SECRET" >"$WORK/secret"
unset TOKENLEDGER_ADMIN_PASSWORD SPDLOG_LEVEL
# /metrics needs a secret (--metrics-secret-file, 0600); reveals run unthrottled (--reveal-rate 0),
# since row 2 measures how many the server can do, not how many one user may.
(umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/metrics.secret")
SERVER_ARGS=(--listen "127.0.0.1:$TL_PORT" --max-tokens-per-user 100000 --reveal-rate 0
  --metrics-secret-file "$WORK/metrics.secret")

gbench() { # RUN LOG JSON RC TAKE...: parse one Google Benchmark run
  local run=$1 logf=$2 json=$3 rc=$4
  shift 4
  tb gbench --results "$RES" --run "$run" --file "$json" --log "$logf" --rc "$rc" --take "$@"
}

run_store() { # NAME RUN FILTER [--data DIR] -> runs bench_store, sets rc; output in $WORK/logs
  local name=$1 run=$2 filter=$3
  shift 3
  local args=("$@")
  ((tiny)) && args+=(--tiny)
  mkdir -p "$WORK/tmp"
  rc=0
  (cd "$WORK/tmp" && TMPDIR=$WORK/tmp "$STORE" "${args[@]}" --benchmark_filter="$filter" \
    --benchmark_out="$WORK/logs/$name.$run.json" --benchmark_out_format=json) \
    >"$WORK/logs/$name.$run.log" 2>&1 || rc=$?
}

mkdir -p "$WORK/logs"
log "work dir $WORK; events $events, runs $runs, $seconds s per HTTP/pgbench run; ports pg $PG_PORT nginx $NGINX_PORT tokenledger $TL_PORT"

# ------------------------------------------------------------------------------ row 1 (and PostgreSQL for row 2)
if row_on 1 || row_on 2; then
  log "PostgreSQL peer: initdb and start on 127.0.0.1:$PG_PORT"
  PG_UP=1 # from here on the clean-up stops it (a no-op when it never started)
  if ! "$BENCH/peers/postgres.sh" start "$WORK/pg" "$PG_PORT" >"$WORK/logs/pg-start.log" 2>&1; then
    "$BENCH/peers/postgres.sh" stop "$WORK/pg"
    PG_UP=0
    why="PostgreSQL did not start: $(tail -1 "$WORK/logs/pg-start.log")"
    fail "$why"
    for ((k = 1; k <= runs; k++)); do record_error pg.tps "$k" "$why"; done
  fi
  for ((k = 1; k <= runs; k++)); do
    if row_on 1; then
      if [[ -x "$STORE" ]]; then
        log "row 1: run $k of $runs: bench_store BM_DurableAppend"
        run_store durable "$k" BM_DurableAppend
        gbench "$k" "$WORK/logs/durable.$k.log" "$WORK/logs/durable.$k.json" "$rc" \
          'BM_DurableAppend:items_per_second:r1.tl' || fail "row 1: bench_store BM_DurableAppend (run $k)"
      else
        record_error r1.tl "$k" "no bench_store binary"
      fi
      log "row 1: run $k of $runs: db_bench fillseq sync=1 batch_size=100, $dbb_num writes"
      rm -rf "$WORK/dbbench"
      db_bench --benchmarks=fillseq --sync=1 --batch_size=100 --num="$dbb_num" --value_size=500 \
        --db="$WORK/dbbench" >"$WORK/logs/dbbench.$k.log" 2>&1 || true
      rm -rf "$WORK/dbbench"
      tb dbbench --results "$RES" --run "$k" --metric r1.dbbench --file "$WORK/logs/dbbench.$k.log" ||
        fail "row 1: db_bench (run $k)"
    fi
    if ((PG_UP)); then
      log "row 1: run $k of $runs: pgbench, 32 clients, $seconds s"
      if "$BENCH/peers/postgres.sh" reset "$WORK/pg" "$PG_PORT" >"$WORK/logs/pg-reset.$k.log" 2>&1; then
        "$BENCH/peers/postgres.sh" pgbench "$WORK/pg" "$PG_PORT" 32 "$seconds" >"$WORK/logs/pgbench.$k.log" 2>&1 || true
      else
        cp "$WORK/logs/pg-reset.$k.log" "$WORK/logs/pgbench.$k.log"
      fi
      tb pgbench --results "$RES" --run "$k" --metric pg.tps --file "$WORK/logs/pgbench.$k.log" ||
        fail "row 1: pgbench (run $k)"
    fi
  done
  if ((PG_UP)); then
    "$BENCH/peers/postgres.sh" stop "$WORK/pg"
    PG_UP=0
  fi
fi

# ------------------------------------------------------------------------------ row 6
if row_on 6; then
  for ((k = 1; k <= runs; k++)); do
    if [[ ! -x "$MEMB" ]]; then record_error r6.resident_mib "$k" "no bench_memory binary"; continue; fi
    log "row 6: run $k of $runs: bench_memory ${mem_tokens:+--tokens $mem_tokens}"
    args=()
    # Tiny: every benchmark of the binary once. Full: only the one of the table (the checkpoint
    # decode/load benchmarks are for tuning row 5 and are run by hand).
    if ((tiny)); then args+=(--tiny); else args+=(--tokens "$mem_tokens" --benchmark_filter=BM_TokenTableMemory); fi
    rc=0
    (cd "$WORK" && "$MEMB" "${args[@]}" --benchmark_out="$WORK/logs/memory.$k.json" \
      --benchmark_out_format=json) >"$WORK/logs/memory.$k.log" 2>&1 || rc=$?
    gbench "$k" "$WORK/logs/memory.$k.log" "$WORK/logs/memory.$k.json" "$rc" \
      '.:bytes_per_token:r6.bytes_per_token' '.:resident_mib:r6.resident_mib' '.:tokens:r6.tokens?' ||
      fail "row 6: bench_memory (run $k)"
  done
fi

# ------------------------------------------------------------------------------ the data set
DATA=$WORK/data
BENCH_USER=bench BENCH_PW=bench-password-1
dataset=""
have_data=0 have_gen=0
if row_on 2 || row_on 3 || row_on 4 || row_on 5 || row_on 7 || row_on 10 || row_on 11 || row_on 12; then
  if [[ -x "$GEN" ]]; then
    log "data set: tokenledger-bench-gen --events $events --codes $codes"
    rc=0
    "$GEN" --data "$DATA" --events "$events" --codes "$codes" --codes-out "$WORK/codes" \
      --user "$BENCH_USER" --password "$BENCH_PW" >"$WORK/logs/gen.out" 2>"$WORK/logs/gen.log" || rc=$?
    summary=$(grep -E '^\{' "$WORK/logs/gen.out" | tail -1 || true)
    if ((rc == 0)) && [[ -n "$summary" && -s "$WORK/codes" ]]; then
      have_data=1 have_gen=1
      dataset=$(tb dataset-note "$summary")
      log "data set: $dataset"
    else
      why="tokenledger-bench-gen failed (status $rc): $(tail -1 "$WORK/logs/gen.log" 2>/dev/null)"
      fail "$why"
    fi
  else
    why="no tokenledger-bench-gen binary"
  fi
  if ((!have_data)) && { row_on 2 || row_on 3 || row_on 5; }; then
    # Fallback so that the HTTP rows still run: a small data set made through the HTTP API.
    log "data set: $why; making $codes tokens through the HTTP API instead"
    rm -rf "$DATA"
    TOKENLEDGER_ADMIN_PASSWORD=bench-admin-password-1 "$SERVER" --data "$DATA" "${SERVER_ARGS[@]}" \
      >"$WORK/logs/server-setup.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 600); do
      curl -fsS -o /dev/null "http://127.0.0.1:$TL_PORT/readyz" 2>/dev/null && break
      sleep 0.1
    done
    if tb http-dataset --url "http://127.0.0.1:$TL_PORT" --admin-password bench-admin-password-1 \
      --user "$BENCH_USER" --password "$BENCH_PW" --tokens "$codes" --codes-out "$WORK/codes" \
      >"$WORK/logs/http-dataset.log" 2>&1; then
      have_data=1
      dataset="$codes tokens made through the HTTP API (not the $events-event data set: $why)."
    else
      fail "HTTP data set: $(tail -1 "$WORK/logs/http-dataset.log")"
    fi
    stop_pid "$SERVER_PID"
    SERVER_PID=""
  fi
fi

# ------------------------------------------------------------------------------ rows 4, 7 and 12
for row in 4 7 12; do
  row_on "$row" || continue
  for ((k = 1; k <= runs; k++)); do
    if [[ ! -x "$STORE" || $have_gen -eq 0 ]]; then
      why=$([[ -x "$STORE" ]] && echo "no data set from tokenledger-bench-gen" || echo "no bench_store binary")
      if ((row == 4)); then
        record_error r4.fold "$k" "$why"; record_error r4.raw "$k" "$why"
      elif ((row == 12)); then
        record_error r12.incl_p99 "$k" "$why"; record_error r12.cons_p99 "$k" "$why"
      else
        record_error r7.token_p99 "$k" "$why"; record_error r7.actor_p99 "$k" "$why"
      fi
      continue
    fi
    if ((row == 4)); then
      log "row 4: run $k of $runs: bench_store --data BM_RawScan, BM_Fold"
      run_store fold "$k" 'BM_Fold|BM_RawScan' --data "$DATA"
      gbench "$k" "$WORK/logs/fold.$k.log" "$WORK/logs/fold.$k.json" "$rc" \
        'BM_RawScan:items_per_second:r4.raw' 'BM_Fold:items_per_second:r4.fold' ||
        fail "row 4: bench_store (run $k)"
    elif ((row == 12)); then
      log "row 12: run $k of $runs: bench_store --data BM_InclusionProof, BM_ConsistencyProof"
      run_store proofs "$k" 'BM_InclusionProof|BM_ConsistencyProof' --data "$DATA"
      gbench "$k" "$WORK/logs/proofs.$k.log" "$WORK/logs/proofs.$k.json" "$rc" \
        'BM_InclusionProof:p99_ms:r12.incl_p99' 'BM_InclusionProof:p50_ms:r12.incl_p50' \
        'BM_ConsistencyProof:p99_ms:r12.cons_p99' 'BM_ConsistencyProof:p50_ms:r12.cons_p50' \
        'BM_InclusionProof:load_seconds:r12.load_s' ||
        fail "row 12: bench_store (run $k)"
    else
      log "row 7: run $k of $runs: bench_store --data BM_AuditQuery"
      run_store audit "$k" 'BM_AuditQuery' --data "$DATA"
      gbench "$k" "$WORK/logs/audit.$k.log" "$WORK/logs/audit.$k.json" "$rc" \
        'BM_AuditQueryByToken:p99_ms:r7.token_p99' 'BM_AuditQueryByToken:p50_ms:r7.token_p50' \
        'BM_AuditQueryByActor:p99_ms:r7.actor_p99' 'BM_AuditQueryByActor:p50_ms:r7.actor_p50' ||
        fail "row 7: bench_store (run $k)"
    fi
  done
done

# ------------------------------------------------------------------------------ rows 2 and 3 (HTTP)
wrk_run() { # RUN NAME URL MODE SECONDS -- ARGS... (MODE: reveal or introspect, see wrk/requests.lua)
  local run=$1 name=$2 url=$3 mode=$4 secs=$5
  shift 6
  wrk -t1 -c64 -d"${secs}s" --latency -s "$BENCH/wrk/requests.lua" "$url" -- "$mode" "$@" \
    >"$WORK/logs/$name.$run.log" 2>&1 || true
}
if row_on 2 || row_on 3; then
  http_ok=0
  if ((have_data)); then
    log "rows 2, 3: tokenledger on 127.0.0.1:$TL_PORT"
    "$SERVER" --data "$DATA" "${SERVER_ARGS[@]}" >"$WORK/logs/server-http.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 9000); do
      curl -fsS -o /dev/null "http://127.0.0.1:$TL_PORT/readyz" 2>/dev/null && { http_ok=1; break; }
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    if ((http_ok)); then
      if ! tb prepare --url "http://127.0.0.1:$TL_PORT" --user "$BENCH_USER" --password "$BENCH_PW" \
        --secret-file "$WORK/secret" --codes "$WORK/codes" --out-dir "$WORK/http" \
        >"$WORK/logs/prepare.log" 2>&1; then
        http_ok=0
        why="preparing the HTTP runs failed: $(tail -1 "$WORK/logs/prepare.log")"
      else
        log "prepared: $(tail -1 "$WORK/logs/prepare.log")"
      fi
    else
      why="the server did not become ready: $(tail -1 "$WORK/logs/server-http.log")"
    fi
  else
    why="no data set"
  fi
  if ((!http_ok)); then
    fail "rows 2, 3: $why"
    for ((k = 1; k <= runs; k++)); do
      row_on 2 && record_error r2.tl "$k" "$why"
      row_on 3 && { record_error r3.tl "$k" "$why"; record_error r3.nginx "$k" "$why"; }
    done
  fi
  TLURL=http://127.0.0.1:$TL_PORT
  if ((http_ok)) && row_on 2; then
    if ((warmup)); then
      log "row 2: warm-up, $warmup s"
      wrk_run 0 reveal-warmup "$TLURL" reveal "$warmup" -- "$WORK/http/cookie" "$WORK/http/reveal_ids"
    fi
    for ((k = 1; k <= runs; k++)); do
      log "row 2: run $k of $runs: wrk reveal, 64 connections, $seconds s"
      wrk_run "$k" reveal "$TLURL" reveal "$seconds" -- "$WORK/http/cookie" "$WORK/http/reveal_ids"
      tb wrk --results "$RES" --run "$k" --file "$WORK/logs/reveal.$k.log" \
        --rps-metric r2.tl --p99-metric r2.tl_p99_ms || fail "row 2: wrk reveal (run $k)"
    done
  fi
  if ((http_ok)) && row_on 3; then
    log "nginx peer on 127.0.0.1:$NGINX_PORT"
    NGINX_UP=1 # from here on the clean-up stops it (a no-op when it never started)
    if ! "$BENCH/peers/nginx.sh" start "$WORK/nginx" "$NGINX_PORT" "$WORK/http/nginx_body" \
      >"$WORK/logs/nginx-start.log" 2>&1; then
      "$BENCH/peers/nginx.sh" stop "$WORK/nginx"
      NGINX_UP=0
      why="nginx did not start: $(tail -1 "$WORK/logs/nginx-start.log")"
      fail "$why"
      for ((k = 1; k <= runs; k++)); do record_error r3.nginx "$k" "$why"; done
    fi
    NGURL=http://127.0.0.1:$NGINX_PORT/api/v1/introspect
    IARGS=("$WORK/secret" "$WORK/http/introspect_bodies")
    if ((warmup)); then
      log "row 3: warm-up, $warmup s each"
      wrk_run 0 introspect-warmup "$TLURL/api/v1/introspect" introspect "$warmup" -- "${IARGS[@]}"
      ((NGINX_UP)) && wrk_run 0 nginx-warmup "$NGURL" introspect "$warmup" -- "${IARGS[@]}"
    fi
    for ((k = 1; k <= runs; k++)); do
      log "row 3: run $k of $runs: wrk introspect, 64 connections, $seconds s"
      wrk_run "$k" introspect "$TLURL/api/v1/introspect" introspect "$seconds" -- "${IARGS[@]}"
      tb wrk --results "$RES" --run "$k" --file "$WORK/logs/introspect.$k.log" \
        --rps-metric r3.tl --p99-metric r3.tl_p99_ms || fail "row 3: wrk introspect (run $k)"
      if ((NGINX_UP)); then
        log "row 3: run $k of $runs: wrk nginx, 64 connections, $seconds s"
        wrk_run "$k" nginx "$NGURL" introspect "$seconds" -- "${IARGS[@]}"
        tb wrk --results "$RES" --run "$k" --file "$WORK/logs/nginx.$k.log" \
          --rps-metric r3.nginx --p99-metric r3.nginx_p99_ms || fail "row 3: wrk nginx (run $k)"
      fi
    done
    if ((NGINX_UP)); then
      "$BENCH/peers/nginx.sh" stop "$WORK/nginx"
      NGINX_UP=0
    fi
  fi
  if [[ -n "$SERVER_PID" ]]; then
    # The server's own view of the load (latency by route, batch sizes, fsync), kept with --keep.
    curl -fsS -H "Authorization: Bearer $(cat "$WORK/metrics.secret")" -o "$WORK/logs/metrics-after-http.txt" \
      "http://127.0.0.1:$TL_PORT/metrics" 2>/dev/null || true
    log "rows 2, 3: stopping the server (it writes a projection checkpoint)"
    stop_pid "$SERVER_PID" 600
    SERVER_PID=""
  fi
fi

# ------------------------------------------------------------------------------ row 5
if row_on 5; then
  if ((have_data)) && [[ ! -d "$DATA" ]]; then have_data=0; fi
  if ((have_data)) && ! row_on 2 && ! row_on 3; then
    # A checkpoint for the first "with checkpoint" start: one start and stop of the server.
    tb startup --bin "$SERVER" --port "$TL_PORT" --log "$WORK/logs/startup-prime.log" --pid-file "$WORK/startup.pid" \
      -- --data "$DATA" "${SERVER_ARGS[@]}" >/dev/null 2>&1 || true
  fi
  for ((k = 1; k <= runs; k++)); do
    if ((!have_data)); then
      record_error r5.ckpt_s "$k" "no data set"; record_error r5.nockpt_s "$k" "no data set"
      continue
    fi
    log "row 5: run $k of $runs: start-up with the checkpoint written at the last stop"
    tb startup --bin "$SERVER" --port "$TL_PORT" --log "$WORK/logs/startup-ckpt.$k.log" \
      --pid-file "$WORK/startup.pid" --results "$RES" --run "$k" --prefix r5.ckpt \
      --after-metric r5.after_ckpt -- --data "$DATA" "${SERVER_ARGS[@]}" >>"$WORK/logs/startup.jsonl" ||
      fail "row 5: start-up with a checkpoint (run $k)"
    if ((have_gen)); then
      log "row 5: run $k of $runs: start-up without a checkpoint (tokenledger-bench-gen --drop-checkpoint)"
      if "$GEN" --data "$DATA" --drop-checkpoint >"$WORK/logs/drop.$k.log" 2>&1; then
        tb startup --bin "$SERVER" --port "$TL_PORT" --log "$WORK/logs/startup-nockpt.$k.log" \
          --pid-file "$WORK/startup.pid" --results "$RES" --run "$k" --prefix r5.nockpt \
          -- --data "$DATA" "${SERVER_ARGS[@]}" >>"$WORK/logs/startup.jsonl" ||
          fail "row 5: start-up without a checkpoint (run $k)"
      else
        why="tokenledger-bench-gen --drop-checkpoint failed: $(tail -1 "$WORK/logs/drop.$k.log")"
        record_error r5.nockpt_s "$k" "$why"
        fail "row 5: $why"
      fi
    else
      record_error r5.nockpt_s "$k" "no tokenledger-bench-gen to drop the checkpoint"
    fi
  done
  rm -f "$WORK/startup.pid"
fi

# ------------------------------------------------------------------------------ rows 10 and 11 (HTTP)
# as_of and verify one request at a time over HTTP (p99 of the request times): the server as it
# answers now (as_of through the audit index's owner keys; verify from the last full check plus
# the records after it) beside the old cost, measured on the same data: verify?full=true (the
# whole log walked), and as_of from a --read-only server on the directory without its owner keys
# (tokenledger-bench-gen --drop-owner-index), which folds the log from seq 1 as before issue 16.
# No background scrub (--scrub-hours 0), so that nothing else reads the disk meanwhile.
tl_start() { # LOGNAME ARGS...: starts the server on $DATA, waits for /readyz; 0 when ready
  local name=$1 i
  shift
  "$SERVER" --data "$DATA" "${SERVER_ARGS[@]}" --scrub-hours 0 "$@" >"$WORK/logs/$name.log" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 9000; i++)); do
    curl -fsS -o /dev/null "http://127.0.0.1:$TL_PORT/readyz" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
if row_on 10 || row_on 11; then
  TLURL=http://127.0.0.1:$TL_PORT
  LAT=(--url "$TLURL" --user "$BENCH_USER" --password "$BENCH_PW" --results "$RES")
  why=""
  if ((!have_data)) || [[ ! -d "$DATA" ]]; then
    why="no data set"
  elif ! tl_start server-asof; then
    why="the server did not become ready: $(tail -1 "$WORK/logs/server-asof.log")"
  elif ! tb asof-paths --url "$TLURL" --user "$BENCH_USER" --password "$BENCH_PW" --samples "$asof_samples" \
    --out "$WORK/asof_paths" >"$WORK/logs/asof-paths.log" 2>&1; then
    why="choosing as_of requests failed: $(tail -1 "$WORK/logs/asof-paths.log")"
  fi
  if [[ -n "$why" ]]; then
    fail "rows 10, 11: $why"
    for ((k = 1; k <= runs; k++)); do
      for m in r10.tl_p99 r10.old r11.tl_p99 r11.full; do record_error "$m" "$k" "$why"; done
    done
  else
    echo /api/v1/audit/verify >"$WORK/verify_path"
    echo "/api/v1/audit/verify?full=true" >"$WORK/verify_full_path"
    for ((k = 1; k <= runs; k++)); do
      if row_on 10; then
        log "row 10: run $k of $runs: $asof_samples as_of requests"
        tb latency "${LAT[@]}" --run "$k" --paths "$WORK/asof_paths" --samples "$asof_samples" \
          --p99-metric r10.tl_p99 --p50-metric r10.tl_p50 >>"$WORK/logs/asof.log" 2>&1 || fail "row 10: as_of (run $k)"
      fi
      if row_on 11; then
        log "row 11: run $k of $runs: $old_samples verify?full=true requests (the whole log)"
        tb latency "${LAT[@]}" --run "$k" --paths "$WORK/verify_full_path" --samples "$old_samples" --expect-ok \
          --p99-metric r11.full_p99 --p50-metric r11.full >>"$WORK/logs/verify.log" 2>&1 ||
          fail "row 11: verify?full=true (run $k)"
        log "row 11: run $k of $runs: $verify_samples verify requests"
        tb latency "${LAT[@]}" --run "$k" --paths "$WORK/verify_path" --samples "$verify_samples" --expect-ok \
          --p99-metric r11.tl_p99 --p50-metric r11.tl_p50 >>"$WORK/logs/verify.log" 2>&1 || fail "row 11: verify (run $k)"
      fi
    done
  fi
  if [[ -n "$SERVER_PID" ]]; then stop_pid "$SERVER_PID" 600; SERVER_PID=""; fi
  if row_on 10 && [[ -z "$why" ]]; then
    log "row 10: the old cost: a --read-only server on the directory without its owner keys"
    if ! "$GEN" --data "$DATA" --drop-owner-index >"$WORK/logs/drop-owner-index.log" 2>&1; then
      why="tokenledger-bench-gen --drop-owner-index failed: $(tail -1 "$WORK/logs/drop-owner-index.log")"
    elif ! tl_start server-asof-old --read-only; then
      why="the read-only server did not become ready: $(tail -1 "$WORK/logs/server-asof-old.log")"
    fi
    for ((k = 1; k <= runs; k++)); do
      if [[ -n "$why" ]]; then record_error r10.old "$k" "$why"; continue; fi
      log "row 10: run $k of $runs: $old_samples as_of requests folding the whole log"
      tb latency "${LAT[@]}" --run "$k" --paths "$WORK/asof_paths" --samples "$old_samples" \
        --p99-metric r10.old_p99 --p50-metric r10.old >>"$WORK/logs/asof-old.log" 2>&1 || fail "row 10: old as_of (run $k)"
    done
    [[ -n "$why" ]] && fail "row 10: $why"
    if [[ -n "$SERVER_PID" ]]; then stop_pid "$SERVER_PID" 600; SERVER_PID=""; fi
    # A writable start back-fills the owner keys, so the data set is as generated again.
    if [[ -z "$why" ]] && tl_start server-asof-backfill; then
      log "row 10: owner keys back-filled: $(grep -o 'owner keys back-filled.*' "$WORK/logs/server-asof-backfill.log" | head -1)"
    fi
    if [[ -n "$SERVER_PID" ]]; then stop_pid "$SERVER_PID" 600; SERVER_PID=""; fi
  fi
fi

# ------------------------------------------------------------------------------ the table
versions=()
version_of() { "$@" 2>&1 | head -1 || true; }
rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$ROOT" diff --quiet HEAD 2>/dev/null || rev+=" with local changes"
versions+=("tokenledger $rev ($(basename "$build_dir") build)")
versions+=("RocksDB $(version_of db_bench --version | awk '{print $3}') (db_bench)")
versions+=("$(version_of pgbench --version | sed 's/^pgbench (PostgreSQL) /PostgreSQL /; s/ (.*//')")
versions+=("$(version_of nginx -v | sed 's/^nginx version: nginx\//nginx /')")
versions+=("$(version_of wrk --version | awk '{print "wrk " $2}')")
python3 - "$WORK/meta.json" "$cmdline" "$runs" "$dataset" "${versions[@]}" <<'EOF'
import json, sys
path, command, runs, dataset, *versions = sys.argv[1:]
json.dump({"command": command, "runs": int(runs), "dataset": dataset, "versions": versions},
          open(path, "w"))
EOF
report_args=(--results "$RES" --meta "$WORK/meta.json" --rows "$rows_sel")
((tiny)) && report_args+=(--tiny)
[[ -n "$out" ]] && report_args+=(--out "$out")
echo
rc=0
python3 "$BENCH/report.py" "${report_args[@]}" || rc=$?
((rc == 0)) || fail "some figures are missing (see the table)"
log "done in $(($(date +%s) - t_start)) s"
if ((${#failures[@]})); then
  log "${#failures[@]} failure(s):"
  for f in "${failures[@]}"; do echo "  - $f" >&2; done
  exit 1
fi
