namespace Overlay.Linux.WireGuard;

/// <summary>A WireGuard operation failed; the message names the operation, the device and the cause.</summary>
public class WireGuardException : IOException
{
    public WireGuardException(string device, string operation, string message, int errno = 0, Exception? inner = null)
        : base($"WireGuard {operation} on device '{device}' failed: {message}", inner)
    {
        Device = device;
        Operation = operation;
        Errno = errno;
    }

    public string Device { get; }
    public string Operation { get; }
    /// <summary>The positive errno the backend reported, or 0 when the failure was not an errno.</summary>
    public int Errno { get; }
}

/// <summary>The backend does not serve a device of that name. The composite client tries the next backend.</summary>
public sealed class WireGuardDeviceNotFoundException : WireGuardException
{
    public WireGuardDeviceNotFoundException(string device, string operation, string message, Exception? inner = null)
        : base(device, operation, message, errno: 19 /* ENODEV */, inner) { }
}
