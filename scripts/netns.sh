#!/usr/bin/env bash
# Runs a command in a private network namespace: lo up, plus a veth pair whose one end has a
# private address and the default route, so WebRTC gathers real host candidates while no
# packet can leave the machine. Needs root, or unprivileged user namespaces (then -r maps us).
set -euo pipefail
if [ "${SPN_IN_NETNS:-}" = 1 ]; then exec "$@"; fi
flags=-n
[ "$(id -u)" = 0 ] || flags=-rn
exec unshare "$flags" env SPN_IN_NETNS=1 bash -c '
  set -e
  ip link set lo up
  ip link add spn0 type veth peer name spn1
  ip addr add 10.77.0.1/24 dev spn0
  ip link set spn0 up
  ip link set spn1 up
  ip route add default dev spn0
  exec "$@"' netns "$@"
