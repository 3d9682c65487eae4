using Grpc.Core;

namespace Overlay.Frr.Grpc;

/// <summary>
/// A northbound RPC ended with a non-OK gRPC status (from the daemon's trailers, from the
/// client's deadline, or because the daemon could not be reached).
/// The message names the RPC and the daemon endpoint.
/// </summary>
public sealed class FrrNorthboundException : Exception
{
    public FrrNorthboundException(StatusCode statusCode, string detail, string method, string target, Exception? inner = null, string? serverDetails = null)
        : base(FormatMessage(statusCode, detail, method, target, serverDetails), inner)
    {
        StatusCode = statusCode;
        Detail = detail;
        Method = method;
        Target = target;
        ServerDetails = serverDetails;
    }

    public StatusCode StatusCode { get; }

    /// <summary>The daemon's <c>grpc-message</c> (or the client's own explanation), decoded.</summary>
    public string Detail { get; }

    /// <summary>The RPC, e.g. <c>Commit</c>.</summary>
    public string Method { get; }

    /// <summary>The endpoint, e.g. <c>staticd (127.0.0.1:50052)</c>.</summary>
    public string Target { get; }

    /// <summary>
    /// FRR's extra error text from <c>grpc-status-details-bin</c>, when it sent one. FRR 8.4 puts plain
    /// text there (e.g. a validation error), not a <c>google.rpc.Status</c>, so it is kept as text.
    /// </summary>
    public string? ServerDetails { get; }

    private static string FormatMessage(StatusCode code, string detail, string method, string target, string? serverDetails)
    {
        var text = detail.Length == 0
            ? $"FRR northbound {method} on {target} failed: {code}"
            : $"FRR northbound {method} on {target} failed: {code}: {detail}";
        return string.IsNullOrEmpty(serverDetails) || serverDetails == detail ? text : $"{text} ({serverDetails})";
    }
}
