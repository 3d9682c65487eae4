#!/bin/bash
# Rebuilds the two-router lab described in README.md and prints the vty captures into $OUT.
# Needs root, FRR 8.4 in /usr/lib/frr. Cleans up on exit.
set -euo pipefail
ID=${ID:-fx$RANDOM}
OUT=${OUT:-$(mktemp -d)}
WORK=$(mktemp -d); chmod 755 "$WORK"   # the daemons read their configs as user frr
cleanup() {
  for r in a b; do
    ip netns pids $ID$r 2>/dev/null | xargs -r kill 2>/dev/null || true
    sleep 0.5; ip netns del $ID$r 2>/dev/null || true; rm -rf /var/run/frr/$ID$r
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

for r in a b; do
  ip netns add $ID$r; ip -n $ID$r link set lo up
  mkdir -p /var/run/frr/$ID$r $WORK/$r; chown frr:frr /var/run/frr/$ID$r $WORK/$r
done
ip link add ${ID}va type veth peer name ${ID}vb
ip link set ${ID}va netns ${ID}a name eth0; ip link set ${ID}vb netns ${ID}b name eth0
ip -n ${ID}a addr add 10.0.12.1/30 dev eth0; ip -n ${ID}a addr add 2001:db8:12::1/64 dev eth0 nodad
ip -n ${ID}b addr add 10.0.12.2/30 dev eth0; ip -n ${ID}b addr add 2001:db8:12::2/64 dev eth0 nodad
ip -n ${ID}b addr add 198.51.100.1/32 dev lo
ip -n ${ID}a link set eth0 up; ip -n ${ID}b link set eth0 up

conf() { cat > $WORK/$1/$2.conf; chown frr:frr $WORK/$1/$2.conf; }
for r in a b; do
  me=$([ $r = a ] && echo 1 || echo 2); peer=$([ $r = a ] && echo 2 || echo 1)
  conf $r zebra </dev/null
  printf 'interface eth0\n ip ospf network point-to-point\n ip ospf hello-interval 1\n ip ospf dead-interval 3\nexit\nrouter ospf\n ospf router-id 10.0.12.%s\n network 10.0.12.0/30 area 0\nexit\n' $me | conf $r ospfd
  printf 'bfd\n peer 10.0.12.%s interface eth0\n  receive-interval 100\n  transmit-interval 100\n exit\nexit\n' $peer | conf $r bfdd
done
printf 'ip route 192.0.2.0/24 blackhole\nipv6 route 2001:db8:aa::/64 blackhole\n' | conf a staticd
cat <<C | conf a bgpd
router bgp 65001
 bgp router-id 10.0.12.1
 no bgp ebgp-requires-policy
 neighbor 10.0.12.2 remote-as 65002
 neighbor 2001:db8:12::2 remote-as 65002
 address-family ipv4 unicast
  redistribute static
 exit-address-family
 address-family ipv6 unicast
  neighbor 2001:db8:12::2 activate
  redistribute static
 exit-address-family
exit
C
cat <<C | conf b bgpd
router bgp 65002
 bgp router-id 10.0.12.2
 no bgp ebgp-requires-policy
 neighbor 10.0.12.1 remote-as 65001
 neighbor 2001:db8:12::1 remote-as 65001
 address-family ipv4 unicast
  network 198.51.100.1/32
 exit-address-family
 address-family ipv6 unicast
  neighbor 2001:db8:12::1 activate
 exit-address-family
exit
C

start() { # router daemon grpc-port
  ip netns exec $ID$1 setsid /usr/lib/frr/$2 -N $ID$1 -f $WORK/$1/$2.conf -i /var/run/frr/$ID$1/$2.pid \
    --log file:$WORK/$1/$2.log -u frr -g frr -P 0 -M grpc:$3 </dev/null >/dev/null 2>&1 &
}
for r in a b; do
  start $r zebra 50051
  for i in $(seq 50); do [ -S /var/run/frr/$ID$r/zserv.api ] && break; sleep 0.1; done
  [ $r = a ] && start $r staticd 50052
  start $r bfdd 50053; start $r ospfd 50054; start $r bgpd 50055
done

vty() { # socket command: prints the output, status on stderr
  python3 - "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.argv[2].encode() + b'\0'); buf = b''
while not (len(buf) >= 4 and buf[-4:-1] == b'\0\0\0'):
    d = s.recv(65536)
    if not d: break
    buf += d
sys.stderr.write("%s: status %d\n" % (sys.argv[2], buf[-1])); sys.stdout.write(buf[:-4].decode())
PY
}
A=/var/run/frr/${ID}a; B=/var/run/frr/${ID}b
for i in $(seq 100); do vty $A/bgpd.vty "show bgp summary json" 2>/dev/null | grep -q Established && break; sleep 0.5; done
sleep 2
vty $A/ospfd.vty "show ip ospf neighbor json" > $OUT/ospf-neighbor-full.json
vty $A/bgpd.vty "show bgp summary json" > $OUT/bgp-summary.json
vty $A/bgpd.vty "show bgp ipv4 unicast 198.51.100.1/32 json" > $OUT/bgp-ipv4-prefix.json
vty $B/bgpd.vty "show bgp ipv6 unicast 2001:db8:aa::/64 json" > $OUT/bgp-ipv6-prefix.json
vty $B/bgpd.vty "show bgp ipv4 unicast 192.0.2.0/24 json" > $OUT/bgp-ipv4-prefix-b.json
vty $A/bgpd.vty "show bgp ipv4 unicast 203.0.113.99/32 json" > $OUT/bgp-ipv4-prefix-missing.json
vty $A/bgpd.vty "show bgp ipv4 unicast 203.0.113.99/32" > $OUT/bgp-ipv4-prefix-missing.txt || true
for d in bfdd ospfd bgpd; do kill $(cat $B/$d.pid); done
sleep 5
vty $A/ospfd.vty "show ip ospf neighbor json" > $OUT/ospf-neighbor-none.json
vty $A/bgpd.vty "show bgp summary json" > $OUT/bgp-summary-down.json
echo "captured into $OUT"
