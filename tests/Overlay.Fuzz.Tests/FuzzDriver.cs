using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using CsCheck;

namespace Overlay.Fuzz.Tests;

/// <summary>
/// Runs one parser over mutated seeds. CsCheck draws (seed index, random stream, number of edits); the driver
/// mutates, runs the parser and classifies the outcome: accepted, rejected with the parser's documented
/// exception (non-empty message), or a defect (any other exception, or the documented one without a message).
/// Defects are collected, not stopped at, so one run lists every distinct one (by type and throwing frame).
/// </summary>
/// <remarks>
/// CI runs a short pass (<see cref="CiIterations"/>); the long run sets OVERLAY_FUZZ_ITER (see docs/security.md
/// "Fuzzing"). OVERLAY_FUZZ_REPORT names a file each run appends its counts to.
/// </remarks>
internal static class FuzzDriver
{
    public const long CiIterations = 3_000;

    public static long Iterations =>
        long.TryParse(Environment.GetEnvironmentVariable("OVERLAY_FUZZ_ITER"), out var n) && n > 0 ? n : CiIterations;

    public sealed record Outcome(long Inputs, long Accepted, long Rejected, IReadOnlyList<string> Defects);

    public static Outcome Run<TInput>(string target, int seedCount, Func<int, Random, int, TInput> mutate,
        Action<TInput> parse, Func<Exception, bool> handled, Func<TInput, string> show, ITestOutputHelper output)
    {
        long accepted = 0, rejected = 0, inputs = 0;
        var defects = new ConcurrentDictionary<string, (long Count, string Example)>();
        var sw = Stopwatch.StartNew();
        long iter = Iterations;
        Gen.Select(Gen.Int[0, seedCount - 1], Gen.Int, Gen.Int[1, 6]).Sample((seed, stream, edits) =>
        {
            var input = mutate(seed, new Random(stream), edits);
            Interlocked.Increment(ref inputs);
            try
            {
                parse(input);
                Interlocked.Increment(ref accepted);
            }
            catch (Exception ex) when (handled(ex) && !string.IsNullOrWhiteSpace(ex.Message))
            {
                Interlocked.Increment(ref rejected);
            }
            catch (Exception ex)
            {
                var frame = new StackTrace(ex).GetFrames().FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("Overlay.", StringComparison.Ordinal) == true);
                string key = $"{ex.GetType().Name} at {frame?.GetMethod()?.DeclaringType?.Name}.{frame?.GetMethod()?.Name}: {ex.Message.Split('\n')[0]}";
                if (key.Length > 300) key = key[..300];
                defects.AddOrUpdate(key, _ => (1, $"seed {seed}, stream {stream}, edits {edits}: {show(input)}"), (_, v) => (v.Count + 1, v.Example));
            }
            return true;
        }, iter: iter, threads: 1);
        sw.Stop();
        var lines = defects.OrderByDescending(d => d.Value.Count).Select(d => $"{d.Value.Count}x {d.Key}\n    e.g. {Truncate(d.Value.Example, 600)}").ToList();
        string summary = $"{target}: {inputs} inputs in {sw.Elapsed.TotalSeconds:F1} s ({accepted} accepted, {rejected} rejected with a message, {defects.Sum(d => d.Value.Count)} unhandled in {defects.Count} distinct defects)";
        output.WriteLine(summary);
        foreach (var l in lines) output.WriteLine(l);
        if (Environment.GetEnvironmentVariable("OVERLAY_FUZZ_REPORT") is { Length: > 0 } report)
            File.AppendAllText(report, summary + "\n" + string.Concat(lines.Select(l => l + "\n")));
        return new Outcome(inputs, accepted, rejected, lines);
    }

    public static string Escape(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s) sb.Append(c is < ' ' or > '~' ? $"\\u{(int)c:x4}" : c.ToString());
        return sb.ToString();
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "…";
}
