#!/usr/bin/env bash
# Installs what tokenledger needs from Debian (bookworm). With --test, also what the test suite
# needs: clang-format-14 (scripts/check-format.sh), Chromium for the browser tests, Node.js and
# npm for playwright-core, faketime, the openssl command (the HTTPS tests make a self-signed
# certificate), RocksDB's ldb (the tamper tests edit a copy of a data directory with it),
# PostgreSQL 15 (the PostgreSQL log's tests start their own instance on loopback). With
# --bench, what bench/run.sh needs: wrk, nginx, PostgreSQL, db_bench. With --cluster, what
# scripts/cluster.sh needs: PostgreSQL 15, Patroni, etcd (the options combine).
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config ccache git ca-certificates
  libboost1.81-dev libboost-program-options1.81-dev libboost-url1.81-dev
  librocksdb-dev libsimdjson-dev libspdlog-dev libfmt-dev libsodium-dev libpq-dev libhowardhinnant-date-dev zlib1g-dev
  libutf8proc-dev libpwquality-dev cracklib-runtime
  googletest libgtest-dev libbenchmark-dev libssl-dev)
services=0  # a package that starts a system service (nginx, postgresql) is installed
for arg in "$@"; do
  case "$arg" in
    --test)
      packages+=(chromium faketime curl procps clang clang-format-14 libclang-rt-14-dev openssl rocksdb-tools
        postgresql-15)
      services=1
      command -v node >/dev/null || packages+=(nodejs)
      command -v npm >/dev/null || packages+=(npm)
      ;;
    --bench)
      # bench/run.sh: the load generator, the peers (nginx, PostgreSQL; the script starts its own
      # instances on private ports) and db_bench (the RocksDB limit).
      packages+=(wrk nginx-light postgresql postgresql-contrib rocksdb-tools python3 curl procps)
      services=1
      ;;
    --cluster)
      packages+=(postgresql-15 postgresql-client-15 patroni etcd-server etcd-client python3-psycopg2 curl procps)
      services=1
      ;;
    *) echo "install-deps.sh: unknown option $arg (--test, --bench, --cluster)" >&2; exit 2 ;;
  esac
done

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> installing: ${missing[*]}"
  $sudo apt-get update -q
  policy=/usr/sbin/policy-rc.d
  if ((services)) && [[ ! -e $policy ]]; then
    # nginx and postgresql start system services (port 80, a cluster on 5432) when installed:
    # the tests and benchmarks run their own instances, so keep the services from starting.
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    trap '$sudo rm -f "$policy"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "==> every needed package is installed"
fi
