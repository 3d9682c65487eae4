namespace Overlay.Frr.Grpc;

/// <summary>
/// A northbound RPC ended with a non-OK gRPC status (from the daemon's trailers, from the
/// HTTP layer, from the client's deadline, or because the daemon could not be reached).
/// The message names the RPC and the daemon endpoint.
/// </summary>
public sealed class FrrNorthboundException : Exception
{
    public FrrNorthboundException(GrpcStatusCode statusCode, string detail, string method, string target, Exception? inner = null)
        : base(FormatMessage(statusCode, detail, method, target), inner)
    {
        StatusCode = statusCode;
        Detail = detail;
        Method = method;
        Target = target;
    }

    public GrpcStatusCode StatusCode { get; }

    /// <summary>The daemon's <c>grpc-message</c> (or the client's own explanation), decoded.</summary>
    public string Detail { get; }

    /// <summary>The RPC, e.g. <c>Commit</c>.</summary>
    public string Method { get; }

    /// <summary>The endpoint, e.g. <c>staticd (127.0.0.1:50052)</c>.</summary>
    public string Target { get; }

    private static string FormatMessage(GrpcStatusCode code, string detail, string method, string target) =>
        detail.Length == 0
            ? $"FRR northbound {method} on {target} failed: {code}"
            : $"FRR northbound {method} on {target} failed: {code}: {detail}";
}
