#!/usr/bin/env bash
# Builds what is needed, then serves the browser chat on http://127.0.0.1:8080/ (PORT=...).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node examples/browser-chat/server.js
