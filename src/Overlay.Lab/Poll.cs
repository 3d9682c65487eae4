using System.Diagnostics;

namespace Overlay.Lab;

/// <summary>Polling with a deadline: the lab never sleeps a fixed time hoping something is ready.</summary>
public static class Poll
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Calls <paramref name="probe"/> until it returns true; returns how long that took. A probe that throws
    /// counts as "not yet", except <see cref="LabProcessExitedException"/>, which ends the wait at once. Throws a
    /// <see cref="TimeoutException"/> naming <paramref name="what"/> (and the last probe failure) at the deadline.
    /// </summary>
    public static async Task<TimeSpan> UntilAsync(string what, Func<CancellationToken, Task<bool>> probe, TimeSpan timeout,
        TimeSpan? interval = null, CancellationToken ct = default)
    {
        var sw = Stopwatch.StartNew();
        Exception? last = null;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                if (await probe(ct).ConfigureAwait(false)) return sw.Elapsed;
                last = null;
            }
            catch (Exception e) when (e is not LabProcessExitedException && (e is not OperationCanceledException || !ct.IsCancellationRequested))
            {
                last = e;
            }
            if (sw.Elapsed >= timeout)
                throw new TimeoutException($"{what}: not reached within {timeout.TotalSeconds:0.###} s" + (last is null ? "" : $" (last error: {last.Message})"), last);
            await Task.Delay(interval ?? DefaultInterval, ct).ConfigureAwait(false);
        }
    }

    public static Task<TimeSpan> UntilAsync(string what, Func<bool> probe, TimeSpan timeout, TimeSpan? interval = null, CancellationToken ct = default) =>
        UntilAsync(what, _ => Task.FromResult(probe()), timeout, interval, ct);
}
