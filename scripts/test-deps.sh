#!/usr/bin/env bash
# Test-only tools, beyond what frr/install.sh installs for the product and the demo:
# - the OpenSSH server binary, which the SSH backend's live test starts itself on 127.0.0.1 (tests/Overlay.Remote.Tests);
# - promtool (Debian's `prometheus` package), which checks and unit-tests examples/prometheus/overlay-rules.yaml
#   (tests/Overlay.Daemon.Tests, OperationsArtifactsTests);
# - clang and zlib's development files, which the NativeAOT publish links with (scripts/publish.sh; CI publishes
#   and runs the first-run demo on those binaries).
# The packages' own services are kept from starting and left disabled: installing a test dependency must not open
# port 22 or 9090 on a CI machine. Idempotent; needs root and Debian.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "test-deps: must run as root" >&2; exit 1; }
missing=()
[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
command -v promtool >/dev/null || missing+=(prometheus)
# A clang compiler (clang or clang-N; clang-format alone does not link). No grep -q: under pipefail its early exit
# SIGPIPEs compgen and the pipeline reads as "absent".
compgen -c | grep -E '^clang(-[0-9]+)?$' >/dev/null || missing+=(clang)
[ -e /usr/lib/x86_64-linux-gnu/libz.so ] || [ -e /usr/lib/libz.so ] || missing+=(zlib1g-dev)
[ "${#missing[@]}" -eq 0 ] && exit 0
command -v apt-get >/dev/null || { echo "test-deps: no apt-get (not Debian): install ${missing[*]} by hand, or the tests that need them skip" >&2; exit 1; }
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
# Another apt run (e.g. frr/install.sh in a parallel job) holds the dpkg lock for minutes: wait instead of failing.
apt=(apt-get -o DPkg::Lock::Timeout=600)
DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null \
  || { "${apt[@]}" update >/dev/null && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null; }
if command -v systemctl >/dev/null; then
  systemctl disable --now ssh.service ssh.socket prometheus.service >/dev/null 2>&1 || true
fi
echo "test-deps: installed ${missing[*]} (services disabled: only the SSH live test starts sshd, on 127.0.0.1; promtool runs no server)"
