using Overlay.Core.Rotation;
using Overlay.Core.Rotation.Execution;
using Overlay.Tests.Shared;

namespace Overlay.Core.Tests.Rotation.Execution;

/// <summary>Records every call as "node: Method target"; can be told to fail one of them.</summary>
internal sealed class RecordingAgent(AutoAdvancingTimeProvider clock) : IRotationNodeAgent
{
    public List<string> Calls { get; } = [];
    public Func<string, bool> FailWhen { get; set; } = _ => false;
    public TimeSpan CostPerCall { get; set; } = TimeSpan.FromMilliseconds(5);

    private Task Record(string call)
    {
        clock.Advance(CostPerCall);
        lock (Calls) Calls.Add(call);
        if (FailWhen(call)) throw new InvalidOperationException($"injected failure: {call}");
        return Task.CompletedTask;
    }

    public Task WriteInterfaceAsync(string node, string iface, IReadOnlyList<string> wgQuickFile, CancellationToken ct) => Record($"{node}: Write {iface}");
    public Task BringUpAsync(string node, string iface, CancellationToken ct) => Record($"{node}: Up {iface}");
    public Task TearDownAsync(string node, string iface, CancellationToken ct) => Record($"{node}: Down {iface}");
    public Task DeleteInterfaceAsync(string node, string iface, CancellationToken ct) => Record($"{node}: Delete {iface}");
    public Task ApplyFrrAsync(string node, IReadOnlyList<string> lines, CancellationToken ct) => Record($"{node}: Frr {string.Join(" | ", lines)}");
    public Task RunCommandsAsync(string node, IReadOnlyList<string> commands, CancellationToken ct) => Record($"{node}: Run {string.Join(" ; ", commands)}");
}

/// <summary>Each verification holds from its Nth check on (per kind); a kind mapped to null never holds.</summary>
internal sealed class ScriptedProbe : IRotationProbe
{
    public Dictionary<VerificationKind, int?> ChecksUntilMet { get; } = [];
    public Dictionary<Verification, int> Checks { get; } = [];
    public Func<Verification, bool> ThrowWhen { get; set; } = _ => false;

    public Task<ProbeResult> CheckAsync(Verification v, DateTimeOffset phaseStarted, CancellationToken ct)
    {
        int n;
        lock (Checks) n = Checks[v] = Checks.GetValueOrDefault(v) + 1;
        if (ThrowWhen(v)) throw new IOException("vty socket not there");
        int? needed = ChecksUntilMet.GetValueOrDefault(v.Kind, 1);
        return Task.FromResult(needed is { } k && n >= k ? ProbeResult.Yes($"check {n}") : ProbeResult.No($"check {n}: not yet"));
    }
}
