using System.Security.Cryptography;
using System.Text;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Lint;
using Overlay.Core.Net;
using Inventory = Overlay.Core.Inventories.Inventory;

namespace Overlay.Benchmarks;

/// <summary>Inputs for the render and lint benchmarks, generated deterministically.</summary>
internal static class InventoryBenchData
{
    /// <summary>
    /// An N-node full mesh in the shape of examples/mesh-40.yaml. Large meshes need a larger link pool
    /// (N(N-1)/2 /31s), placed in 100.64.0.0/10 and admitted by the gate.
    /// </summary>
    public static string FullMeshYaml(int nodes)
    {
        var sb = new StringBuilder();
        sb.Append("gate: [10.0.0.0/8, 100.64.0.0/10, 224.0.0.5/32, 224.0.0.6/32]\n");
        sb.Append("defaults:\n  linkPool: 100.64.0.0/10\n");
        sb.Append("topology:\n  type: fullMesh\n");
        sb.Append("nodes:\n");
        for (int i = 1; i <= nodes; i++)
        {
            string name = $"m{i:D4}";
            string key = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes("bench/" + name)));
            sb.Append($"  - {{ name: {name}, id: {i}, short: n{i}, overlay: {{ v4: 10.{i / 250}.{i % 250}.1 }}, endpoint: 192.0.2.{i % 250 + 1}:{20000 + (i / 250) * 2000}, publicKey: {key} }}\n");
        }
        sb.Append("vips:\n  - { name: dns, prefix: 10.250.53.53/32, members: [m0001, m0002] }\n");
        return sb.ToString();
    }

    public static Inventory Parse(string yaml, string name)
    {
        var r = InventoryParser.Parse(yaml, name);
        if (!r.Success) throw new InvalidOperationException($"bench inventory {name} does not parse:\n{string.Join("\n", r.Diagnostics.Take(10))}");
        return r.Inventory!;
    }

    public static string Mesh40Yaml() => File.ReadAllText(Path.Combine(RepoRoot(), "examples", "mesh-40.yaml"));

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Overlay.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find Overlay.sln above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// A legacy hub interface: <paramref name="peers"/> peers with <paramref name="perPeer"/> AllowedIPs each
    /// (host routes and /24s in disjoint blocks), plus one deliberately overlapping entry so reporting is exercised.
    /// </summary>
    public static PeerList LegacyPeerList(int peers, int perPeer)
    {
        var baseBits = IpPrefix.Parse("10.0.0.0/8").Bits;
        var location = new SourceLocation("bench.conf", 1, 1);
        var list = new List<PeerEntry>(peers);
        int line = 1;
        for (int p = 0; p < peers; p++)
        {
            var ips = new List<AllowedIp>(perPeer + 1);
            UInt128 block = baseBits + (UInt128)p * 4096; // 4096 addresses per peer: up to 1024 entries of stride 4
            for (int h = 0; h < perPeer; h++)
            {
                // Every eighth entry is a /29 holding the next host routes: nested, same owner, not a conflict.
                var addr = IpPrefix.ToAddress(block + (UInt128)(h * 4), false);
                ips.Add(new AllowedIp(IpPrefix.Create(addr, h % 8 == 0 ? 29 : 32), line++, 14));
            }
            list.Add(new PeerEntry(new WireGuardKey(SHA256.HashData(BitConverter.GetBytes(p))), ips, null, TimeSpan.Zero, location with { Line = line++ }));
        }
        var last = list[^1];
        list[^1] = last with { AllowedIps = [.. last.AllowedIps, list[0].AllowedIps[1]] };
        return new PeerList("hub", "wg0", 51820, list, location);
    }
}
