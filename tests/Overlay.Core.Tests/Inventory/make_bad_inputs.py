import base64, hashlib, os
# Writes the bad-input corpus without expectations; then run the tests once with
# OVERLAY_UPDATE_GOLDEN=1 to fill in the '# expect:' lines, and review the diff.
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'BadInputs')
def key(n): return base64.b64encode(hashlib.sha256(f'bad-input/{n}'.encode()).digest()).decode()
K1, K2, K3 = key(1), key(2), key(3)
BASE = f"""gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]
nodes:
  - name: hub1
    id: 1
    role: hub
    overlay: {{ v4: 10.0.0.1 }}
    endpoint: 192.0.2.1:51820
    publicKey: {K1}
  - name: spoke1
    id: 11
    overlay: {{ v4: 10.0.1.1 }}
    subnets: [10.1.1.0/24]
    nat: true
    publicKey: {K2}
  - name: spoke2
    id: 12
    overlay: {{ v4: 10.0.1.2 }}
    endpoint: 198.51.100.12:51820
    publicKey: {K3}
topology:
  type: hubAndSpoke
  primary: {{ node: hub1, cost: 10 }}
vips:
  - name: web
    prefix: 203.0.113.10/32
    members: [hub1]
"""
MESH = BASE.replace("""topology:
  type: hubAndSpoke
  primary: { node: hub1, cost: 10 }""", """topology:
  type: fullMesh""").replace("    nat: true\n", "    endpoint: 198.51.100.11:51820\n")
cases = []
def case(name, code, text, what):
    cases.append((name, code, text, what))
def sub(old, new, base=BASE, count=1):
    assert old in base, old
    return base.replace(old, new, count)

# YAML syntax and document shape
case('syntax-unclosed-flow', 'INV001', sub('224.0.0.6/32]', '224.0.0.6/32'), 'flow sequence never closed')
case('syntax-bad-indent', 'INV001', sub('    id: 11\n', '      id: 11\n'), 'over-indented key')
case('syntax-unclosed-quote', 'INV001', sub('    id: 12\n', '    id: "12\n'), 'unterminated double quote')
case('syntax-tab-indent', 'INV001', sub('    id: 1\n', '\tid: 1\n'), 'tab used for indentation')
case('syntax-two-documents', 'INV001', BASE + '---\ngate: []\n', 'a second document')
case('syntax-unknown-alias', 'INV001', sub('members: [hub1]', 'members: *hubs'), 'alias without anchor')
case('empty-file', 'INV004', '', 'nothing at all')
case('root-is-list', 'INV003', '- gate\n- nodes\n', 'the root is a list')
case('root-is-scalar', 'INV003', 'just some text\n', 'the root is a scalar')
# unknown keys
case('unknown-root-key', 'INV002', sub('vips:', 'vipz:'), "'vipz' near-miss of 'vips'")
case('unknown-node-key', 'INV002', sub('    endpoint: 198.51.100.12:51820', '    endpiont: 198.51.100.12:51820'), "'endpiont' near-miss of 'endpoint'")
case('unknown-node-key-case', 'INV002', sub('    publicKey: ' + K1, '    publickey: ' + K1), "wrong case 'publickey'")
case('unknown-topology-key', 'INV002', sub('  primary:', '  primry:'), "'primry' in topology")
case('unknown-vip-key', 'INV002', sub('    members: [hub1]', '    member: [hub1]'), "'member' in a VIP")
case('unknown-defaults-key', 'INV002', 'defaults:\n  keepAlive: 25s\n' + BASE, "'keepAlive' in defaults")
case('unknown-key-far', 'INV002', sub('    id: 12\n', '    id: 12\n    colour: blue\n'), 'unknown key with no near match')
# wrong types
case('type-nodes-mapping', 'INV003', sub('nodes:\n  - name: hub1', 'nodes:\n  hub1:\n    name: hub1').replace('\n  - name: spoke1', '\n  spoke1:\n    name: spoke1').replace('\n  - name: spoke2', '\n  spoke2:\n    name: spoke2'), 'nodes written as a mapping')
case('type-id-text', 'INV003', sub('    id: 11', '    id: eleven'), 'id is a word')
case('type-nat-yes', 'INV003', sub('    nat: true', '    nat: yes'), "nat: yes instead of true")
case('type-subnets-scalar', 'INV003', sub('    subnets: [10.1.1.0/24]', '    subnets: 10.1.1.0/24'), 'subnets is one scalar')
case('type-members-scalar', 'INV003', sub('    members: [hub1]', '    members: hub1'), 'members is one scalar')
case('type-overlay-list', 'INV003', sub('    overlay: { v4: 10.0.1.2 }', '    overlay: [10.0.1.2]'), 'overlay is a list')
case('type-gate-scalar', 'INV003', sub('gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]', 'gate: 10.0.0.0/8'), 'gate is a scalar')
case('type-name-list', 'INV003', sub('  - name: spoke2', '  - name: [spoke2]'), 'a node name that is a list')
# ranges
case('range-listen-port', 'INV020', sub('    id: 12\n', '    id: 12\n    listenPort: 99999\n'), 'listenPort above 65535')
case('range-id-zero', 'INV020', sub('    id: 11', '    id: 0'), 'id 0')
case('range-asn', 'INV020', sub('    id: 12\n', '    id: 12\n    asn: 4294967296\n'), 'ASN above 32 bits')
case('range-port-plus-id', 'INV020', sub('    id: 1\n', '    id: 1\n    listenPort: 65530\n'), 'listenPort + peer id beyond 65535')
case('range-cost', 'INV020', sub('primary: { node: hub1, cost: 10 }', 'primary: { node: hub1, cost: 0 }'), 'OSPF cost 0')
# prefixes
case('prefix-length-33', 'INV006', sub('subnets: [10.1.1.0/24]', 'subnets: [10.1.1.0/33]'), 'prefix length 33')
case('prefix-three-octets', 'INV006', sub('subnets: [10.1.1.0/24]', 'subnets: [10.1.1/24]'), 'address with three octets')
case('prefix-garbage-gate', 'INV006', sub('224.0.0.6/32]', 'banana]'), 'gate entry is not a prefix')
case('prefix-host-bits-subnet', 'INV007', sub('subnets: [10.1.1.0/24]', 'subnets: [10.1.1.1/24]'), 'host bits set in a subnet')
case('prefix-host-bits-gate', 'INV007', sub('gate: [10.0.0.0/8', 'gate: [10.1.0.0/8'), 'host bits set in the gate')
case('prefix-host-bits-pool', 'INV007', 'defaults:\n  linkPool: 10.255.1.0/16\n' + BASE, 'host bits set in linkPool')
case('prefix-duplicate-subnet', 'INV022', sub('subnets: [10.1.1.0/24]', 'subnets: [10.1.1.0/24, 10.1.1.0/24]'), 'a subnet listed twice')
case('prefix-duplicate-gate', 'INV022', sub('224.0.0.6/32]', '224.0.0.6/32, 10.0.0.0/8]'), 'gate lists a prefix twice')
case('gate-empty', 'INV004', sub('gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]', 'gate: []'), 'empty gate')
case('pool-ipv6', 'INV005', 'defaults:\n  linkPool: "fd00:255::/64"\n' + BASE, 'IPv6 link pool')
# keys
case('key-short', 'INV008', sub(K2, K2[:20]), 'truncated public key')
case('key-not-base64', 'INV008', sub(K3, 'A' * 42 + '$='), 'not base64')
case('key-no-padding', 'INV008', sub(K1, K1[:-1]), 'missing = padding')
# durations and timers
case('duration-no-unit', 'INV009', 'defaults:\n  keepalive: 25\n' + BASE, 'keepalive without unit')
case('duration-bad-unit', 'INV009', 'defaults:\n  keepalive: 25x\n' + BASE, 'unknown unit')
case('duration-policy-word', 'INV009', 'policies:\n  default:\n    interval: fast\n' + BASE, 'a word as duration')
case('timer-hello-subsecond', 'INV025', 'defaults:\n  ospf: { hello: 500ms, dead: 3s }\n' + BASE, 'OSPF hello below one second')
case('timer-dead-not-longer', 'INV025', 'defaults:\n  ospf: { hello: 3s, dead: 3s }\n' + BASE, 'dead equal to hello')
case('timer-bfd-too-fast', 'INV025', 'defaults:\n  bfd: { minRx: 5ms }\n' + BASE, 'BFD 5ms')
case('timer-keepalive-fraction', 'INV025', 'defaults:\n  keepalive: 1500ms\n' + BASE, 'keepalive not whole seconds')
# references
case('ref-vip-member', 'INV011', sub('members: [hub1]', 'members: [hub1, spoke9]'), 'VIP member unknown')
case('ref-vip-member-near', 'INV011', sub('members: [hub1]', 'members: [hub]'), 'VIP member near-miss')
case('ref-primary-hub', 'INV011', sub('primary: { node: hub1', 'primary: { node: hub9'), 'primary hub unknown')
case('ref-secondary-hub', 'INV011', sub('  primary: { node: hub1, cost: 10 }', '  primary: { node: hub1, cost: 10 }\n  secondary: { node: hub2, cost: 100 }'), 'secondary hub unknown')
case('ref-shortcut-node', 'INV011', sub('  primary: { node: hub1, cost: 10 }', '  primary: { node: hub1, cost: 10 }\n  shortcuts:\n    - { between: [spoke1, spoke3] }'), 'shortcut to an unknown node')
case('ref-policy', 'INV012', sub('    members: [hub1]', '    members: [hub1]\n    policy: defualt'), 'VIP policy misspelt')
# duplicates
case('dup-node-name', 'INV010', sub('  - name: spoke2', '  - name: spoke1'), 'two nodes named spoke1')
case('dup-node-id', 'INV022', sub('    id: 12', '    id: 11'), 'two nodes with id 11')
case('dup-short', 'INV022', sub('    id: 12\n', '    id: 12\n    short: n11\n'), "explicit short collides with derived 'n11'")
case('dup-overlay-address', 'INV022', sub('v4: 10.0.1.2', 'v4: 10.0.1.1'), 'two nodes with one overlay address')
case('dup-mapping-key', 'INV014', sub('    id: 12\n', '    id: 12\n    id: 13\n'), 'key id twice in one node')
case('dup-vip-prefix', 'INV022', BASE + '  - name: web2\n    prefix: 203.0.113.10/32\n    members: [spoke2]\n', 'two VIPs with one prefix')
case('dup-vip-name', 'INV010', BASE + '  - name: web\n    prefix: 203.0.113.11/32\n    members: [spoke2]\n', 'two VIPs named web')
case('dup-vip-member', 'INV022', sub('members: [hub1]', 'members: [hub1, hub1]'), 'a member listed twice')
case('dup-policy', 'INV014', 'policies:\n  default: { rise: 2 }\n  default: { rise: 3 }\n' + BASE, 'policy defined twice')
# shortcuts
SC = '  primary: { node: hub1, cost: 10 }\n  shortcuts:\n'
case('shortcut-self', 'INV015', sub('  primary: { node: hub1, cost: 10 }\n', SC + '    - { between: [spoke1, spoke1] }\n'), 'shortcut to itself')
case('shortcut-cycle', 'INV016', sub('  primary: { node: hub1, cost: 10 }\n', SC + '    - { between: [spoke1, spoke2] }\n    - { between: [spoke2, spoke1] }\n'), 'a->b and b->a')
case('shortcut-twice', 'INV016', sub('  primary: { node: hub1, cost: 10 }\n', SC + '    - { between: [spoke1, spoke2], cost: 5 }\n    - { between: [spoke1, spoke2], cost: 7 }\n'), 'the same shortcut twice')
case('shortcut-to-hub', 'INV024', sub('  primary: { node: hub1, cost: 10 }\n', SC + '    - { between: [spoke1, hub1] }\n'), 'shortcut touching the hub')
case('shortcut-three-ends', 'INV005', sub('  primary: { node: hub1, cost: 10 }\n', SC + '    - { between: [spoke1, spoke2, hub1] }\n'), 'three nodes in one shortcut')
case('shortcut-in-mesh', 'INV024', MESH.replace('  type: fullMesh', '  type: fullMesh\n  shortcuts:\n    - { between: [spoke1, spoke2] }'), 'shortcuts in a full mesh')
# missing fields
case('missing-name', 'INV004', sub('  - name: spoke2\n    id: 12', '  - id: 12'), 'node without name')
case('missing-public-key', 'INV004', sub('    publicKey: ' + K3 + '\n', ''), 'node without publicKey')
case('missing-id', 'INV004', sub('    id: 11\n', ''), 'node without id')
case('missing-overlay-v4', 'INV004', sub('overlay: { v4: 10.0.1.2 }', 'overlay: { v6: "fd00::2" }'), 'overlay without v4')
case('missing-topology-type', 'INV004', sub('  type: hubAndSpoke\n', ''), 'topology without type')
case('missing-primary', 'INV004', sub('  primary: { node: hub1, cost: 10 }\n', ''), 'hubAndSpoke without primary')
case('missing-gate', 'INV004', BASE.replace('gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]\n', ''), 'no gate')
case('missing-nodes-empty', 'INV004', 'gate: [10.0.0.0/8]\nnodes: []\ntopology: { type: fullMesh }\n', 'empty node list')
case('missing-upstream-asn', 'INV004', sub('    id: 12\n', '    id: 12\n    upstreams:\n      - { neighbor: 198.51.100.1, remoteAsn: 64500 }\n'), 'upstreams without asn')
case('missing-vip-prefix', 'INV004', sub('    prefix: 203.0.113.10/32\n', ''), 'VIP without prefix')
# VIPs
case('vip-not-host-v4', 'INV013', sub('prefix: 203.0.113.10/32', 'prefix: 203.0.113.0/24'), 'VIP is a /24')
case('vip-not-host-v6', 'INV013', sub('prefix: 203.0.113.10/32', 'prefix: "2001:db8::/64"'), 'VIP is a /64')
case('vip-name-too-long', 'INV021', sub('  - name: web\n', '  - name: webfrontend-eu\n'), 'VIP name over 11 characters')
case('vip-no-members', 'INV004', sub('members: [hub1]', 'members: []'), 'VIP with no members')
# names and enums
case('name-uppercase', 'INV021', sub('  - name: spoke2', '  - name: Spoke2'), 'node name with uppercase')
case('short-too-long', 'INV021', sub('    id: 12\n', '    id: 12\n    short: spoke2\n'), 'short of 6 chars')
case('role-typo', 'INV005', sub('    role: hub', '    role: hubb'), "role 'hubb'")
case('topology-type-typo', 'INV005', sub('type: hubAndSpoke', 'type: hubandspoke'), 'topology type wrong case')
case('policy-bfd-value', 'INV005', 'policies:\n  default:\n    bfd: maybe\n' + BASE, "bfd: maybe")
case('policy-dampening-order', 'INV005', 'policies:\n  default:\n    dampening: { suppressAbove: 500, reuseBelow: 800 }\n' + BASE, 'reuseBelow above suppressAbove')
case('daemon-metrics-public', 'INV005', 'daemon:\n  metrics: 0.0.0.0:9474\n' + BASE, 'metrics on all addresses')
case('keyfile-relative', 'INV005', sub('    id: 12\n', '    id: 12\n    keyFile: keys/spoke2.key\n'), 'relative keyFile')
# topology semantics
case('topo-extra-hub-role', 'INV024', sub('    id: 12\n', '    id: 12\n    role: hub\n').replace('    endpoint: 198.51.100.12:51820', '    endpoint: 198.51.100.12:51820', 1), 'a hub that is not primary or secondary')
case('topo-primary-not-hub', 'INV024', sub('    role: hub\n', ''), 'primary hub has role spoke')
case('topo-same-hubs', 'INV024', sub('  primary: { node: hub1, cost: 10 }', '  primary: { node: hub1, cost: 10 }\n  secondary: { node: hub1, cost: 100 }'), 'primary and secondary are the same')
case('topo-mesh-primary', 'INV024', MESH.replace('  type: fullMesh', '  type: fullMesh\n  primary: { node: hub1 }'), 'primary in a full mesh')
# endpoints and reachability
case('endpoint-and-nat', 'INV018', sub('    endpoint: 198.51.100.12:51820\n', '    endpoint: 198.51.100.12:51820\n    nat: true\n'), 'endpoint and nat together')
case('endpoint-no-port', 'INV017', sub('endpoint: 198.51.100.12:51820', 'endpoint: 198.51.100.12'), 'endpoint without port')
case('endpoint-port-zero', 'INV017', sub('endpoint: 198.51.100.12:51820', 'endpoint: 198.51.100.12:0'), 'port 0')
case('endpoint-v6-unbracketed', 'INV017', sub('endpoint: 198.51.100.12:51820', 'endpoint: "2001:db8::12:51820"'), 'IPv6 endpoint without brackets')
case('endpoint-bad-ipv4', 'INV017', sub('endpoint: 198.51.100.12:51820', 'endpoint: 198.51.100.300:51820'), 'octet 300')
case('unreachable-shortcut', 'INV019', sub('    endpoint: 198.51.100.12:51820\n', '    nat: true\n').replace('  primary: { node: hub1, cost: 10 }\n', SC + '    - { between: [spoke1, spoke2] }\n'), 'shortcut between two NATed spokes')
case('unreachable-hub', 'INV019', sub('    endpoint: 192.0.2.1:51820\n', ''), 'hub without endpoint and a NATed spoke')
case('unreachable-mesh', 'INV019', MESH.replace('    endpoint: 198.51.100.11:51820\n', '    nat: true\n').replace('    endpoint: 198.51.100.12:51820\n', '    nat: true\n'), 'two NATed nodes in a mesh')
case('pool-exhausted', 'INV023', sub('    id: 12', '    id: 300'), 'node id too large for a /16 pool')
case('pool-small', 'INV023', 'defaults:\n  linkPool: 10.255.0.0/30\n' + BASE, 'a /30 pool for three tunnels')
# addresses
case('address-v6-in-v4', 'INV027', sub('overlay: { v4: 10.0.1.2 }', 'overlay: { v4: "fd00::2" }'), 'IPv6 under v4')
case('address-with-length', 'INV027', sub('overlay: { v4: 10.0.1.2 }', 'overlay: { v4: 10.0.1.2/32 }'), 'address written as a prefix')
case('address-upstream-bad', 'INV027', sub('    id: 12\n', '    id: 12\n    asn: 65012\n    upstreams:\n      - { neighbor: 198.51.100, remoteAsn: 64500 }\n'), 'upstream neighbor with three octets')
case('dup-endpoint', 'INV022', sub('    endpoint: 198.51.100.12:51820', '    endpoint: 192.0.2.1:51820'), 'two nodes with one endpoint')
case('type-nat-quoted', 'INV003', sub('    nat: true', '    nat: "true"'), 'a quoted boolean')
case('policy-handshake-short', 'INV025', 'policies:\n  default:\n    handshakeMaxAge: 60s\n' + BASE, 'handshakeMaxAge below the rekey cycle')
case('policy-fast-slower', 'INV025', 'policies:\n  default:\n    interval: 1s\n    fastInterval: 2s\n' + BASE, 'fastInterval longer than interval')
case('policy-min-healthy-zero', 'INV020', 'policies:\n  default:\n    minHealthyInterfaces: 0\n' + BASE, 'minHealthyInterfaces 0')
case('policy-too-many-interfaces', 'INV028', 'policies:\n  default:\n    minHealthyInterfaces: 3\n' + BASE, 'hub1 has two tunnels, the policy wants three')
case('policy-rx-stall-short', 'INV028', 'policies:\n  default:\n    rxStallAfter: 40s\n' + BASE, 'rxStallAfter under two keepalives with a NATed spoke')
case('vip-member-without-tunnels', 'INV028', 'gate: [10.0.0.0/8]\ntopology: { type: fullMesh }\nnodes:\n  - { name: solo, id: 1, overlay: { v4: 10.0.0.1 }, endpoint: 192.0.2.1:51820, publicKey: ' + K1 + ' }\nvips:\n  - { name: web, prefix: 203.0.113.10/32, members: [solo] }\n', 'a VIP on a node with no tunnels')
case('daemon-mode-world', 'INV005', 'daemon:\n  mode: "0666"\n' + BASE, 'API socket writable by everyone')
case('frr-pathspace-slash', 'INV005', 'frr:\n  pathspace: a/b\n' + BASE, 'pathspace with a slash')
case('empty-node-entry', 'INV004', sub('  - name: spoke2', '  -\n  - name: spoke2'), 'a lone dash in nodes')
case('empty-gate-entry', 'INV004', sub('224.0.0.6/32]', '224.0.0.6/32, ~]'), 'a null entry in the gate')
case('combined-many', '*', sub('    id: 11', '    id: x').replace('subnets: [10.1.1.0/24]', 'subnets: [10.1.1.1/24]').replace('members: [hub1]', 'members: [hub7]').replace('    endpoint: 198.51.100.12', '    endpont: 198.51.100.12'), 'several independent errors reported at once')

for f in os.listdir(out):
    if f.endswith('.yaml'): os.remove(os.path.join(out, f))
for i, (name, code, text, what) in enumerate(cases, 1):
    with open(os.path.join(out, f'{i:03d}-{name}.yaml'), 'w') as fh:
        fh.write(f'# case: {what} (want {code})\n' + text)
print(len(cases))
