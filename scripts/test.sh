#!/usr/bin/env bash
# Installs what is missing, builds everything with the dev preset and runs every test:
# unit and end-to-end tests through CTest, then the browser tests (Chromium via playwright-core).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test

# The format first: it takes a second, and a misformatted file fails CI (.clang-format).
scripts/check-format.sh

start=$(date +%s)
cmake --preset dev >/dev/null
cmake --build --preset dev
echo "==> build took $(( $(date +%s) - start )) s"

ctest --preset dev --output-on-failure -j 2

if [[ -f tests/browser/package.json ]]; then
  echo "==> browser tests"
  # npm and node trust the machine's CA store too (where an organisation's proxy CA lives).
  if [[ -z "${NODE_EXTRA_CA_CERTS:-}" && -f /etc/ssl/certs/ca-certificates.crt ]]; then
    export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
  fi
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error &&
    TOKENLEDGER_BIN="$PWD/../../build/dev/http/tokenledger" node --test --test-reporter=spec ui.test.mjs)
fi

# In CI only (CI=true): the sanitizer builds and the fuzzers. Each build has its own directory,
# so ccache keeps later runs fast.
if [[ "${CI:-}" == "true" ]]; then
  start=$(date +%s)
  echo "==> ASan+UBSan: unit, end-to-end and admin tests"
  cmake --preset asan >/dev/null
  cmake --build --preset asan
  ctest --preset asan --output-on-failure -j 2
  echo "==> ASan+UBSan took $(( $(date +%s) - start )) s"

  start=$(date +%s)
  echo "==> ThreadSanitizer: the event store's and read model's concurrency tests"
  cmake --preset tsan >/dev/null
  cmake --build --preset tsan
  ctest --preset tsan --output-on-failure -j 2
  echo "==> ThreadSanitizer took $(( $(date +%s) - start )) s"

  start=$(date +%s)
  echo "==> libFuzzer: each target for 45 s"
  fuzz/build.sh --run 45
  echo "==> fuzzing took $(( $(date +%s) - start )) s"

  start=$(date +%s)
  echo "==> benchmarks: each once at a tiny size (they must run and give figures; speed is not judged)"
  bench/run.sh --tiny --build-dir build/dev
  echo "==> tiny benchmarks took $(( $(date +%s) - start )) s"
fi
echo "==> all tests passed"
