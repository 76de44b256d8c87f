#!/usr/bin/env bash
# Installs what tokenledger needs from Debian (bookworm). With --test, also what the test suite
# needs: Chromium for the browser tests, Node.js and npm for playwright-core, faketime.
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config ccache git ca-certificates
  libboost1.81-dev libboost-program-options1.81-dev libboost-url1.81-dev
  librocksdb-dev libsimdjson-dev libspdlog-dev libfmt-dev libsodium-dev libhowardhinnant-date-dev zlib1g-dev
  googletest libgtest-dev libbenchmark-dev)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(chromium faketime curl procps clang libclang-rt-14-dev)
  command -v node >/dev/null || packages+=(nodejs)
  command -v npm >/dev/null || packages+=(npm)
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> installing: ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "==> every needed package is installed"
fi
