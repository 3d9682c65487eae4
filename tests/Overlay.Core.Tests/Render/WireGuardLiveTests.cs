using System.Diagnostics;
using System.Runtime.Versioning;
using Overlay.Core.Inventories;
using Overlay.Core.Render;

namespace Overlay.Core.Tests.Render;

/// <summary>
/// Rendered wg-quick files bring up a real tunnel: two network namespaces joined by a veth underlay,
/// each running wg-quick (userspace wireguard-go) on its rendered file, including the PostUp that
/// loads the private key. One end is behind "NAT" (no endpoint), so only the other end is dialled.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class WireGuardLiveTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _id = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..4];
    private readonly string _dir = Directory.CreateTempSubdirectory("overlay-wg-live-").FullName;
    private readonly List<(string Ns, string Conf)> _up = [];
    private string NsA => $"ovr-a-{_id}";
    private string NsB => $"ovr-b-{_id}";

    private static readonly Dictionary<string, string> WgEnv = new()
    {
        ["WG_QUICK_USERSPACE_IMPLEMENTATION"] = "wireguard-go",
        ["WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"] = "1",
    };

    [SkippableFact]
    public void Rendered_wg_quick_files_bring_up_a_tunnel()
    {
        Skip.IfNot(Environment.UserName == "root", "needs root for network namespaces");
        foreach (var tool in new[] { "/usr/bin/wg", "/usr/bin/wg-quick", "/usr/bin/wireguard-go" })
            Skip.IfNot(File.Exists(tool), $"{tool} is not installed; frr/install.sh installs wireguard-go and wireguard-tools");

        string keyA = WriteKey("a"), keyB = WriteKey("b");
        string inventory = $$"""
            gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]
            topology: { type: fullMesh }
            nodes:
              - { name: a, id: 1, short: a{{_id}}, overlay: { v4: 10.0.0.1 }, endpoint: 192.0.2.1:51820, publicKey: {{PublicKey(keyA)}}, keyFile: {{keyA}} }
              - { name: b, id: 2, short: b{{_id}}, overlay: { v4: 10.0.0.2 }, nat: true, publicKey: {{PublicKey(keyB)}}, keyFile: {{keyB}} }
            """;
        var parsed = InventoryParser.Parse(inventory, "live.yaml");
        Assert.True(parsed.Success, string.Join("\n", parsed.Diagnostics));
        var files = Renderer.Render(parsed.Inventory!);
        foreach (var f in files)
        {
            string p = Path.Combine(_dir, f.RelativePath);
            Directory.CreateDirectory(Path.GetDirectoryName(p)!);
            File.WriteAllText(p, f.Content);
            File.SetUnixFileMode(p, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        Sh("ip", "netns", "add", NsA);
        Sh("ip", "netns", "add", NsB);
        Sh("ip", "link", "add", $"ova{_id}", "netns", NsA, "type", "veth", "peer", "name", $"ovb{_id}", "netns", NsB);
        Sh("ip", "-n", NsA, "addr", "add", "192.0.2.1/24", "dev", $"ova{_id}");
        Sh("ip", "-n", NsB, "addr", "add", "192.0.2.2/24", "dev", $"ovb{_id}");
        Sh("ip", "-n", NsA, "link", "set", $"ova{_id}", "up");
        Sh("ip", "-n", NsB, "link", "set", $"ovb{_id}", "up");

        string ifA = $"wg-a{_id}-b{_id}", ifB = $"wg-b{_id}-a{_id}";
        WgQuickUp(NsA, Path.Combine(_dir, "a", "wireguard", ifA + ".conf"));
        WgQuickUp(NsB, Path.Combine(_dir, "b", "wireguard", ifB + ".conf"));

        // b (behind NAT) dials a; a learns b's endpoint from the handshake.
        var sw = Stopwatch.StartNew();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (Run("ip", "netns", "exec", NsB, "ping", "-c1", "-W1", "10.255.0.0").Code != 0)
            Assert.True(DateTime.UtcNow < deadline, "no ping over the rendered tunnel within 20 s");
        output.WriteLine($"first ping over the rendered tunnel after {sw.ElapsedMilliseconds} ms");

        Assert.Equal($"{PublicKey(keyA)}\t192.0.2.1:51822", Sh("wg", "show", ifB, "endpoints").Trim());
        Assert.Equal("51822", Sh("wg", "show", ifA, "listen-port").Trim());
        Assert.Equal($"{PublicKey(keyB)}\t25", Sh("wg", "show", ifA, "persistent-keepalive").Trim());
        Assert.Equal(PublicKey(keyA), Sh("wg", "show", ifA, "public-key").Trim()); // PostUp loaded the key file
    }

    private string WriteKey(string name)
    {
        string path = Path.Combine(_dir, name + ".key");
        File.WriteAllText(path, "");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path, Sh("wg", "genkey"));
        return path;
    }

    private static string PublicKey(string keyFile) => Run("wg", ["pubkey"], stdin: File.ReadAllText(keyFile)).Out.Trim();

    private void WgQuickUp(string ns, string conf)
    {
        var r = Run("ip", ["netns", "exec", ns, "wg-quick", "up", conf], env: WgEnv);
        Assert.True(r.Code == 0, $"wg-quick up {conf} failed:\n{r.Out}{r.Err}");
        _up.Add((ns, conf));
    }

    private static string Sh(params string[] args)
    {
        var r = Run(args[0], args[1..]);
        Assert.True(r.Code == 0, $"{string.Join(' ', args)} failed ({r.Code}): {r.Err}");
        return r.Out;
    }

    private static (int Code, string Out, string Err) Run(string file, params string[] args) => Run(file, args, null, null);

    private static (int Code, string Out, string Err) Run(string file, string[] args, string? stdin = null, Dictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var (k, v) in env ?? []) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    public void Dispose()
    {
        // wg-quick down deletes the links; wireguard-go exits when its link is gone.
        foreach (var (ns, conf) in _up)
            Run("ip", ["netns", "exec", ns, "wg-quick", "down", conf], env: WgEnv);
        Run("ip", "netns", "del", NsA);
        Run("ip", "netns", "del", NsB);
        Directory.Delete(_dir, recursive: true);
    }
}
