#!/usr/bin/env bash
# Builds the libFuzzer targets into build/fuzz with clang (instrumented: the targets with
# -fsanitize=fuzzer,address,undefined, tokenledger's libraries with fuzzer-no-link,address).
# With --run SECONDS, then runs each target that long on a copy of its seed corpus
# (fuzz/corpus/<target>/); a crash fails the script and leaves the input in build/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(json_requests introspect_form token_code decode_record record_round_trip)
cmake -S fuzz -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer" >/dev/null
cmake --build build/fuzz --target "${targets[@]/#/fuzz_}"

if [[ "${1:-}" == "--run" ]]; then
  seconds="${2:-60}"
  for t in "${targets[@]}"; do
    echo "==> fuzzing $t for ${seconds} s"
    work="build/fuzz/corpus/$t"
    mkdir -p "$work"
    cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
    (cd build/fuzz && "./fuzz_$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 "corpus/$t" ../../fuzz/corpus/"$t" 2>&1 | tail -n 12)
  done
fi
