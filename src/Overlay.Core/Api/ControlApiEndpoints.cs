namespace Overlay.Core.Api;

/// <summary>The control API's paths, as overlayd maps them and overlayctl requests them.</summary>
public static class ControlApiPaths
{
    public const string Status = "/v1/status";
    public const string Peers = "/v1/peers";
    public const string Vips = "/v1/vips";
    public const string Events = "/v1/events";
    public const string Explain = "/v1/explain";
    public const string Drain = "/v1/drain";
    public const string Undrain = "/v1/undrain";
    public const string Restart = "/v1/restart";
    /// <summary>Prometheus exposition, on the loopback TCP listener only (not JSON, so not in the context).</summary>
    public const string Metrics = "/metrics";
}

/// <param name="Name">The query key, e.g. "since".</param>
public sealed record QueryParameter(string Name, string Meaning);

/// <summary>One endpoint of the control API: what it takes and what it answers (see docs/control-api.md).</summary>
/// <param name="Body">The JSON body it accepts (optional), or null when it takes none.</param>
/// <param name="Answer">The JSON answer on success; every failure answers <see cref="ApiError"/>.</param>
/// <param name="Errors">The HTTP statuses it answers with <see cref="ApiError"/>, and when.</param>
public sealed record ControlApiEndpoint(
    string Method, string Path, string Summary, IReadOnlyList<QueryParameter> Query, Type? Body, Type Answer, IReadOnlyList<(int Status, string When)> Errors);

/// <summary>Every endpoint of the control API. overlayd's request checks read it; the API's documentation is generated from it.</summary>
public static class ControlApiEndpoints
{
    private static readonly (int, string) BadRequest = (400, "a query parameter it does not take, or one given twice; a body it does not take");

    public static IReadOnlyList<ControlApiEndpoint> All { get; } =
    [
        new("GET", ControlApiPaths.Status, "The node, its drain, findings, VIPs, peers and owned routes in one view.",
            [], null, typeof(StatusResponse), [BadRequest]),
        new("GET", ControlApiPaths.Peers, "WireGuard peers with health, BFD sessions, OSPF and BGP neighbors.",
            [], null, typeof(PeersResponse), [BadRequest]),
        new("GET", ControlApiPaths.Vips, "Each VIP's decision, desired vs running vs last apply, and the drain.",
            [], null, typeof(VipsResponse), [BadRequest]),
        new("GET", ControlApiPaths.Events, "The event timeline after a sequence number.",
            [new("since", "only events with a sequence number above this (default 0)"), new("max", "at most this many events, 1 to 10000 (default 1000)")],
            null, typeof(EventsResponse), [BadRequest]),
        new("GET", ControlApiPaths.Explain, "Who owns the route to an address: kernel route, WireGuard peer, FRR RIB entry, inventory owner.",
            [new("dest", "the IP address to explain (required)")], null, typeof(Explain.ExplainResult), [(400, "dest is missing or not an IP address"), BadRequest]),
        new("POST", ControlApiPaths.Drain, "Withdraw one VIP (?vip= or the body) or all; answers after the loop acted.",
            [new("vip", "only this VIP (default: all)")], typeof(DrainRequest), typeof(VipsResponse), [(404, "no VIP of that name"), BadRequest]),
        new("POST", ControlApiPaths.Undrain, "End an operator drain of one VIP or all (the drain file still applies); answers after the loop acted.",
            [new("vip", "only this VIP (default: all)")], typeof(DrainRequest), typeof(VipsResponse), [(404, "no VIP of that name"), BadRequest]),
        new("POST", ControlApiPaths.Restart, "Hand the leases to a new overlayd process without withdrawing; answers once it is ready.",
            [], null, typeof(HandoffResult), [(409, "the new process was not ready or failed; this one stays (the answer is a HandoffResult)"), BadRequest]),
    ];

    /// <summary>
    /// What a record's table alone does not say (the API page prints it under the table): chiefly which fields came
    /// later, since clients built against the older shape still read the answers.
    /// </summary>
    public static IReadOnlyDictionary<Type, string> RecordNotes { get; } = new Dictionary<Type, string>
    {
        [typeof(Model.BgpPeer)] =
            "One entry per numbered BGP neighbor. `neighbor`, `state` and `established` are the original fields and keep " +
            "their meaning: the neighbor's address, bgpd's state text, and whether that is Established. Added since: " +
            "`family` (the address family the entry was read from, `ipv4Unicast` when the neighbor has it), `remoteAs`, " +
            "`localAs`, `prefixesReceived`, `prefixesSent` (both of that family), `hostname`, and `interface`, which is " +
            "null: unnumbered peers are not listed, because an overlayctl from before reads `neighbor` as an address and " +
            "would fail on the whole answer.",
    };

    /// <summary>The endpoint of a path, or null.</summary>
    public static ControlApiEndpoint? Find(string path) => All.FirstOrDefault(e => e.Path == path);
}
