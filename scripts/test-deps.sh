#!/usr/bin/env bash
# Test-only tools, beyond what frr/install.sh installs for the product and the demo: the OpenSSH server binary, which
# the SSH backend's live test starts itself on 127.0.0.1 (tests/Overlay.Remote.Tests). The package's own service is
# kept from starting and left disabled: installing a test dependency must not open port 22 on a CI machine.
# Idempotent; needs root and Debian.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "test-deps: must run as root" >&2; exit 1; }
[ -x /usr/sbin/sshd ] && exit 0
command -v apt-get >/dev/null || { echo "test-deps: no apt-get (not Debian): install openssh-server by hand, or the SSH live test skips" >&2; exit 1; }
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"; created_policy=1
fi
trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssh-server >/dev/null \
  || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openssh-server >/dev/null; }
if command -v systemctl >/dev/null; then systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true; fi
echo "test-deps: openssh-server installed (service disabled; only the SSH live test starts sshd, on 127.0.0.1)"
