namespace Overlay.Linux.Interop;

/// <summary>
/// An eventfd that tells a thread blocked in poll(2) to stop looking: once <see cref="Signal"/>led it stays readable.
/// Lets a reader thread wait with no timeout instead of waking every few hundred milliseconds to check a flag.
/// </summary>
public sealed class WakeEvent : IDisposable
{
    private readonly FileDescriptorHandle _fd;

    public WakeEvent(string what) => _fd = Libc.EventFd(what);

    internal FileDescriptorHandle Handle => _fd;

    /// <summary>Makes every present and future poll on this event return. Safe from any thread; a no-op once disposed.</summary>
    public void Signal()
    {
        if (_fd.IsClosed) return;
        try
        {
            if (Libc.SignalEventFd(_fd) < 0 && Libc.LastErrno != Tmds.Linux.LibC.EAGAIN)
                throw LinuxException.FromLastError("write(eventfd)", "wake event");
        }
        catch (ObjectDisposedException) { } // disposed between the check and the write
    }

    public void Dispose() => _fd.Dispose();
}
