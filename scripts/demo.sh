#!/usr/bin/env bash
# Builds what is needed, then runs the two-peer demo inside a private network namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/netns.sh node examples/two-peers.js "$@"
