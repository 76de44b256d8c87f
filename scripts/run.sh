#!/usr/bin/env bash
# Installs what is missing, builds the release binary and starts the server on ./data.
# The first start creates the account "admin" and prints its password once (or set
# TOKENLEDGER_ADMIN_PASSWORD). Extra arguments go to the server, e.g. --listen 0.0.0.0:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target tokenledger tokenledger-admin
exec build/release/http/tokenledger --data ./data "$@"
