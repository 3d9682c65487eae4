using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Overlay.Core.Net;
using Overlay.Linux.WireGuard;
using Overlay.Core.Model;

namespace Overlay.Benchmarks;

/// <summary>
/// Reading a 1000-peer wireguard-go device: Overlay's UAPI backend versus spawning 'wg show IFACE dump' and
/// reading its output, as an operator script or exporter does. Needs root (namespace + wireguard-go).
/// Run: dotnet run -c Release --project bench/Overlay.Benchmarks -- --filter '*WireGuardRead*'
/// </summary>
[Config(typeof(ShortConfig))]
public class WireGuardReadBenchmark
{
    public const int PeerCount = 1000;

    private sealed class ShortConfig : ManualConfig
    {
        public ShortConfig()
        {
            // In-process: no generated project to build, and the device set up in GlobalSetup stays reachable.
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(15));
            AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max);
            AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
        }
    }

    private readonly string _runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
    private string _namespace = "";
    private string _device = "";
    private Process? _wireguardGo;
    private IWireGuardClient _client = null!;
    private readonly WireGuardPrivateKey _privateKey = WireGuardPrivateKey.Generate();

    [GlobalSetup]
    public void Setup()
    {
        _namespace = $"owgb-{_runId}";
        _device = $"wgb{_runId}";
        Run("ip", "netns", "add", _namespace);
        var psi = new ProcessStartInfo("ip", ["netns", "exec", _namespace, "wireguard-go", "-f", _device])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD"] = "1";
        _wireguardGo = Process.Start(psi)!;
        _wireguardGo.BeginOutputReadLine();
        _wireguardGo.BeginErrorReadLine();
        var socket = $"/var/run/wireguard/{_device}.sock";
        var sw = Stopwatch.StartNew();
        while (!File.Exists(socket))
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException($"{socket} did not appear");
            Thread.Sleep(20);
        }

        _client = WireGuardClient.CreateUserspace();
        var peers = new List<WireGuardPeerConfig>(PeerCount);
        for (int i = 0; i < PeerCount; i++)
        {
            peers.Add(new WireGuardPeerConfig(new WireGuardKey(RandomNumberGenerator.GetBytes(32)))
            {
                PresharedKey = i % 2 == 0 ? WireGuardPresharedKey.Generate() : null,
                Endpoint = new IPEndPoint(IPAddress.Parse($"198.51.{100 + i / 250}.{i % 250 + 1}"), 51820),
                PersistentKeepalive = TimeSpan.FromSeconds(25),
                AllowedIPs = [IpPrefix.Parse($"10.{i / 256}.{i % 256}.0/24"), IpPrefix.Parse($"2001:db8:{i:x}::/64")],
            });
        }
        _client.ConfigureDeviceAsync(_device, new WireGuardDeviceConfig
        {
            PrivateKey = _privateKey,
            ListenPort = 51820,
            Peers = peers,
        }).GetAwaiter().GetResult();
        // The link stays down: nothing is sent, so both readers see the same, unchanging device.
        int read = _client.DeviceAsync(_device).GetAwaiter().GetResult().Peers.Count;
        if (read != PeerCount) throw new InvalidOperationException($"device has {read} peers, expected {PeerCount}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client?.Dispose();
        if (_wireguardGo is { HasExited: false })
        {
            Run("kill", "-TERM", _wireguardGo.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (!_wireguardGo.WaitForExit(3000)) _wireguardGo.Kill();
        }
        _wireguardGo?.Dispose();
        var socket = $"/var/run/wireguard/{_device}.sock";
        if (File.Exists(socket)) File.Delete(socket);
        Run("ip", "netns", "del", _namespace);
    }

    /// <summary>Spawn wg, read its whole output and split it into peer lines (the least an exporter does).</summary>
    [Benchmark(Baseline = true, Description = "wg show IFACE dump (spawn + read)")]
    public int WgShowDump()
    {
        var psi = new ProcessStartInfo("wg", ["show", _device, "dump"]) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        string text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"wg exited {p.ExitCode}");
        return text.AsSpan().Count('\n') - 1;
    }

    /// <summary>Overlay's userspace backend: connect, get=1, parse into typed records (keys, prefixes, endpoints).</summary>
    [Benchmark(Description = "UAPI backend DeviceAsync (typed)")]
    public async Task<int> UapiDevice() => (await _client.DeviceAsync(_device).ConfigureAwait(false)).Peers.Count;

    /// <summary>
    /// The same read when the device's private key is new to the reader: the backend derives the public key only then
    /// (it remembers the last one per device), so this adds one X25519 derivation to the read.
    /// </summary>
    [Benchmark(Description = "UAPI backend DeviceAsync + X25519 derivation (key new to the reader)")]
    public async Task<int> UapiDeviceNewKey() =>
        (await _client.DeviceAsync(_device).ConfigureAwait(false)).Peers.Count + WireGuardKeys.PublicKeyOf(_privateKey).Bytes[0];

    private static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)}: {err.Trim()}");
    }
}
