#!/usr/bin/env bash
# Log and event volume of a real overlayd while FRR is down (issue #13, item 11).
#
#   bench/log-flood/log-flood.sh OVERLAYD_DLL [SECONDS]     (root; default 60 s)
#
# Runs overlayd in a network namespace of its own (so its TUN lease and routes stay there) with FRR's gRPC ports and
# vty directory pointing at nothing, a WireGuard interface that does not exist (BFD on, so the BFD read runs every
# pass) and one VIP: every read of FRR fails, and the VIP's withdrawal is retried every fastInterval. Prints the bytes
# and lines overlayd wrote to stdout (JSON lines, as under systemd) per minute, lines carrying a stack trace, and the
# event timeline's length. Run it once with a build of the previous commit and once with this one (docs/security.md).
set -euo pipefail
dll=${1:?usage: log-flood.sh OVERLAYD_DLL [SECONDS]}
seconds=${2:-60}
[ "$(id -u)" = 0 ] || { echo "log-flood.sh: needs root (network namespace, TUN lease)" >&2; exit 1; }
id=$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
ns="ovl-flood-$id"
dir=$(mktemp -d "/tmp/ovl-flood-$id.XXXX")
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "$dir/frr-empty"
cat > "$dir/overlayd.yaml" <<YAML
node: flood
api:
  socket: $dir/overlayd.sock
frr:
  vtyDir: $dir/frr-empty
  grpc: {host: 127.0.0.1, zebra: 50051, staticd: 50052, bfdd: 50053}
interfaces:
  - name: wg-flood
    peer: up1
    peerPublicKey: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
    keepalive: 25s
    localAddress: 10.255.9.1/31
    peerAddress: 10.255.9.0
    bfd: true
    gate: [10.0.0.0/8]
policies:
  default: {interval: 1s, fastInterval: 200ms}
vips:
  - {name: web, prefix: 203.0.113.10/32, lease: ovl-fl-$id, interfaces: [wg-flood]}
YAML
ip netns exec "$ns" dotnet "$dll" --config "$dir/overlayd.yaml" > "$dir/stdout" 2> "$dir/stderr" &
pid=$!
sleep "$seconds"
events=$(curl -s --unix-socket "$dir/overlayd.sock" "http://overlayd/v1/events?since=0&max=10000" || echo '{}')
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
bytes=$(wc -c < "$dir/stdout"); lines=$(wc -l < "$dir/stdout")
stacks=$(grep -c '"Exception":' "$dir/stdout" || true)
python3 - "$bytes" "$lines" "$stacks" "$seconds" "$events" <<'PY'
import json, sys
b, l, s, secs, ev = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
try:
    e = json.loads(ev)
    n, last = len(e.get("events", [])), e.get("lastSeq")
    counted = sum(x.get("repeats", 0) for x in e.get("events", []))
except ValueError:
    n, last, counted = "?", "?", "?"
print(f"{secs} s: {b} bytes, {l} lines ({b * 60 / secs:.0f} bytes/min, {l * 60 / secs:.1f} lines/min), {s} with a stack trace; "
      f"timeline: {n} events held, lastSeq {last}, {counted} repeats counted in place")
PY
echo "first lines:"; head -c 1500 "$dir/stdout" | cut -c1-300
