using Microsoft.Extensions.Time.Testing;

namespace Overlay.Tests.Shared;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that moves only when something waits on it: each timer advances the clock by its
/// due time, so a poll loop runs through its deadline at once and a test reads exactly how much fake time passed.
/// </summary>
/// <remarks>
/// Why a subclass: FakeTimeProvider fires timers only when the test calls <c>Advance</c>, and its
/// <c>AutoAdvanceAmount</c> moves the clock on every read rather than on a wait. Code under test that polls
/// (<c>Task.Delay(interval, time, ct)</c> in a loop, as the rotation executor does) would need a second thread stepping
/// the clock in lock-step; advancing by the due time when the timer is made keeps those tests single-threaded and exact.
/// The timer's callback runs on the thread pool after <c>CreateTimer</c> has returned, as a real timer's would
/// (Task.Delay stores the timer before its callback may run). This is the only extension of FakeTimeProvider in the
/// test projects; add new ones here.
/// </remarks>
internal sealed class AutoAdvancingTimeProvider : FakeTimeProvider
{
    public AutoAdvancingTimeProvider() : base(new DateTimeOffset(2026, 11, 22, 0, 0, 0, TimeSpan.Zero)) { }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = base.CreateTimer(s => ThreadPool.QueueUserWorkItem(callback.Invoke, s, preferLocal: false), state, dueTime, period);
        if (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan) Advance(dueTime);
        return timer;
    }
}
