#!/usr/bin/env bash
# Regenerates scripts/hot-functions.txt, the addon's functions that a data-channel session
# runs, which build.rs hands to the release link so they sit side by side. Run it after code
# changes that move much code (a stale list only costs resident memory, never correctness).
# Needs valgrind and perf (Debian: valgrind, linux-perf); takes ~1.5 minutes on 2 cores
# with the build cached.
#  1. callgrind lists what runs under valgrind;
#  2. natively, perf's page faults in the addon's code add what valgrind's CPU did not take
#     (paths chosen by CPU features it lacks), relinking until no new function faults.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-gnu
lib=target/$target/release/libsimple_peer_native.so
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
list=scripts/hot-functions.txt

# The same crate metadata as `napi build --release` (same target, profile and flags), so the
# symbol names match the shipped build; only the final strip is left out.
build () {
  SIMPLE_PEER_NATIVE_KEEP_SYMBOLS=1 cargo build --release --lib --target "$target" >&2
  cp "$lib" "$work/addon.node"
}
run () {
  NAPI_RS_NATIVE_LIBRARY_PATH="$work/addon.node" bash scripts/netns.sh "$@" node scripts/hot-functions.js workload
}

: > "$list"
build
run valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/callgrind.%p"
node scripts/hot-functions.js callgrind "$work/addon.node" "$work"/callgrind.* | sort -u > "$work/list"
cp "$work/list" "$list"
for round in 1 2 3 4 5 6 7 8; do
  build
  run perf record -q -e page-faults -c 1 -d -o "$work/faults.data"
  perf script -i "$work/faults.data" --show-mmap-events -F addr > "$work/faults.txt" 2>/dev/null
  node scripts/hot-functions.js faults "$work/addon.node" "$work/faults.txt" | sort -u | comm -23 - "$list" > "$work/new"
  echo "round $round: $(wc -l < "$work/new") functions faulted outside the list" >&2
  [ -s "$work/new" ] || break
  sort -u "$list" "$work/new" -o "$list"
done
echo "$(wc -l < "$list") functions in $list" >&2
