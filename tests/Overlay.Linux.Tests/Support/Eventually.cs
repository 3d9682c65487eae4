using System.Diagnostics;

namespace Overlay.Linux.Tests.Support;

public static class Eventually
{
    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after the deadline.</summary>
    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        var sw = Stopwatch.StartNew();
        var limit = deadline ?? TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (sw.Elapsed > limit) throw new TimeoutException($"not converged after {limit.TotalSeconds:F0} s: {what}");
            await Task.Delay(20);
        }
    }
}
