namespace Overlay.Daemon.Anycast;

/// <summary>
/// When the VIP loop runs a pass: at the earliest VIP's next evaluation, or at once when woken (a link or route event,
/// a reload, a drain through the API). Callers can wait for the next complete pass.
/// </summary>
internal sealed class PassScheduler(TimeProvider time)
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _passDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _running;

    public void Wake()
    {
        lock (_lock) _wake.TrySetResult();
    }

    /// <summary>Waits until <paramref name="next"/> or a wake-up, whichever is first; false when stopping.</summary>
    public async Task<bool> WaitAsync(DateTimeOffset next, CancellationToken stoppingToken)
    {
        var delay = next - time.GetUtcNow();
        Task wake;
        lock (_lock) wake = _wake.Task;
        if (delay > TimeSpan.Zero && !wake.IsCompleted)
        {
            using var cancelDelay = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            var sleep = Task.Delay(delay, time, cancelDelay.Token);
            await Task.WhenAny(sleep, wake);
            cancelDelay.Cancel();
            if (stoppingToken.IsCancellationRequested) return false;
        }
        if (wake.IsCompleted)
            lock (_lock)
                if (_wake.Task.IsCompleted) _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return true;
    }

    public void PassStarting()
    {
        lock (_lock) _running = true;
    }

    public void PassCompleted()
    {
        TaskCompletionSource done;
        lock (_lock)
        {
            done = _passDone;
            _passDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _running = false;
        }
        done.TrySetResult();
    }

    /// <summary>Wakes the loop and completes after the next full pass (including the writer's applies).</summary>
    public async Task NextPassAsync(CancellationToken cancellationToken)
    {
        Task done;
        bool running;
        lock (_lock) { done = _passDone.Task; running = _running; }
        Wake();
        await done.WaitAsync(cancellationToken);
        // A pass already under way may have read the state before the caller changed it: wait for a fresh one.
        if (running)
        {
            lock (_lock) done = _passDone.Task;
            Wake();
            await done.WaitAsync(cancellationToken);
        }
    }
}
