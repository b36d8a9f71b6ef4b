#!/usr/bin/env bash
# Everything the project tests: the release addon, Rust unit tests, then the Node suite with
# real peers, inside a private network namespace (scripts/netns.sh) so no packet leaves.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --release --lib
# A debug build of the addon, for the test that forces panics inside it (__test__/panic.test.js).
cargo build --lib
cp target/debug/libsimple_peer_native.so target/debug/simple-peer-native.node
# A test that waits longer than this fails instead of hanging the run.
bash scripts/netns.sh node --test --test-timeout=300000 __test__/
# The packed package installed into a fresh project without Rust, via require and import.
bash scripts/install-test.sh
