using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Overlay.Core.Net;
using Overlay.Linux.WireGuard;

namespace Overlay.Benchmarks;

/// <summary>
/// Deriving a WireGuard public key from its private key (X25519 with the base point), as a UAPI read does when a
/// device's private key is new to it: Overlay's path (BouncyCastle) against the other library the project could use,
/// NSec (libsodium). Run: dotnet run -c Release --project bench/Overlay.Benchmarks -- --filter '*X25519*'
/// </summary>
[Config(typeof(ShortConfig))]
public class X25519DerivationBenchmark
{
    private sealed class ShortConfig : ManualConfig
    {
        public ShortConfig()
        {
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(15));
            AddColumn(StatisticColumn.Median, StatisticColumn.Min, StatisticColumn.Max);
            AddDiagnoser(BenchmarkDotNet.Diagnosers.MemoryDiagnoser.Default);
        }
    }

    private readonly WireGuardPrivateKey _key = WireGuardPrivateKey.Generate();
    private readonly byte[] _public = new byte[WireGuardKey.Size];

    [Benchmark(Baseline = true, Description = "WireGuardKeys.PublicKeyOf (BouncyCastle)")]
    public WireGuardKey PublicKeyOf() => WireGuardKeys.PublicKeyOf(_key);

    /// <summary>NSec has no bare base-point multiplication: a key is imported into libsodium's guarded memory first.</summary>
    [Benchmark(Description = "NSec (libsodium): Key.Import + PublicKey export")]
    public byte[] NSec()
    {
        using var key = global::NSec.Cryptography.Key.Import(global::NSec.Cryptography.KeyAgreementAlgorithm.X25519,
            _key.RevealBytes(), global::NSec.Cryptography.KeyBlobFormat.RawPrivateKey);
        key.PublicKey.TryExport(global::NSec.Cryptography.KeyBlobFormat.RawPublicKey, _public, out _);
        return _public;
    }
}
