#!/usr/bin/env bash
# Installs the JS dependencies and builds the release addon when they are missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x node_modules/.bin/napi ] || npm ci --no-audit --no-fund
addon=$(ls simple-peer-native.*.node 2>/dev/null | head -1 || true)
if [ -z "$addon" ] || [ -n "$(find src Cargo.toml Cargo.lock build.rs -newer "$addon" 2>/dev/null | head -1)" ]; then
  npm run build
fi
