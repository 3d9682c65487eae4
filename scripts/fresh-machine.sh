#!/usr/bin/env bash
# Runs a command as on a freshly booted machine, so a first-run failure shows here and not on a user's new VM:
# a private mount namespace with an empty tmpfs over /run, which hides what earlier runs (or packages) left there:
# /run/wireguard (UAPI sockets; absent until some wireguard-go has run), /run/frr (FRR pathspaces), /run/netns,
# /run/overlay (overlayd's socket). /run/lock and /run/shm are recreated as a booted system has them.
# The rest of the machine (installed packages, the build tree) is seen as it is: CI gives a clean checkout.
#
#   scripts/fresh-machine.sh bash scripts/demo.sh
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "fresh-machine: run as root (it needs a mount namespace)" >&2; exit 1; }
[ $# -gt 0 ] || { echo "usage: scripts/fresh-machine.sh COMMAND [ARG...]" >&2; exit 2; }
# /var/run is a symlink to /run on Debian; the tmpfs covers both.
exec unshare --mount --propagation private -- bash -c '
  set -euo pipefail
  mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
  install -d -m 1777 /run/lock
  [ -e /run/shm ] || ln -s /dev/shm /run/shm
  for d in /run/wireguard /run/frr /run/netns /run/overlay; do
    [ ! -e "$d" ] || { echo "fresh-machine: $d still exists after the tmpfs mount" >&2; exit 1; }
  done
  echo "fresh-machine: empty /run (no /run/wireguard, /run/frr, /run/netns, /run/overlay); running: $*" >&2
  exec "$@"
' fresh-machine "$@"
