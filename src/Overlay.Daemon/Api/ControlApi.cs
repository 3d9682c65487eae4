using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Overlay.Core.Events;
using Overlay.Core.Explain;
using Overlay.Core.Health;
using Overlay.Core.Model;
using Overlay.Core.Anycast;
using Overlay.Daemon.Config;
using Overlay.Daemon.Metrics;
using Overlay.Daemon.Ports;
using Overlay.Daemon.Anycast;
using Overlay.Daemon.Transit;
using Overlay.Daemon.Writer;

namespace Overlay.Daemon.Api;

/// <summary>HTTP+JSON routes of the control API (served on the Unix socket) and /metrics (loopback TCP).</summary>
public static class ControlApi
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet(ControlApiPaths.Status, (ApiContext c) => Results.Json(c.Status(), ControlApiJson.Default.StatusResponse));
        app.MapGet(ControlApiPaths.Peers, (ApiContext c) =>
        {
            var s = c.State.Current;
            return Results.Json(new PeersResponse(s.Peers, s.BfdSessions, s.Routing), ControlApiJson.Default.PeersResponse);
        });
        app.MapGet(ControlApiPaths.Vips, (ApiContext c) => Results.Json(new VipsResponse(c.Drain.Snapshot(), c.Vips()), ControlApiJson.Default.VipsResponse));
        app.MapGet(ControlApiPaths.Events, (ApiContext c, long? since, int? max) =>
        {
            var page = c.Events.Since(since ?? 0, Math.Clamp(max ?? 1000, 1, 10_000));
            return Results.Json(new EventsResponse(page.LastSeq, page.Missed, page.Events), ControlApiJson.Default.EventsResponse);
        });
        app.MapGet(ControlApiPaths.Explain, async (ApiContext c, string? dest, CancellationToken ct) =>
        {
            if (dest is null || !Overlay.Core.Net.IpAddressText.TryParse(dest, out var addr))
                return Results.Json(new ApiError($"'{dest}' is not an IP address", "pass ?dest=ADDRESS, e.g. ?dest=10.20.1.5"), ControlApiJson.Default.ApiError, statusCode: 400);
            return Results.Json(await c.ExplainAsync(addr, ct), ControlApiJson.Default.ExplainResult);
        });
        // The VIP comes from ?vip= or a {"vip": NAME} body (checked by StrictRequests before this runs).
        app.MapPost(ControlApiPaths.Drain, (ApiContext c, HttpContext http, string? vip, CancellationToken ct) => c.SetDrainAsync(vip ?? StrictRequests.BodyVip(http), enter: true, ct));
        app.MapPost(ControlApiPaths.Undrain, (ApiContext c, HttpContext http, string? vip, CancellationToken ct) => c.SetDrainAsync(vip ?? StrictRequests.BodyVip(http), enter: false, ct));
        // Restart without a flap: answers once the new process is ready (200) or why it was not (409, this one stays).
        // Not cancelled by a client that goes away: a hand-off half done is worse than one nobody waits for.
        app.MapPost(ControlApiPaths.Restart, async (Overlay.Daemon.Handoff.HandoffService h) =>
        {
            var r = await h.HandOffAsync("overlayctl restart", CancellationToken.None);
            return Results.Json(r, ControlApiJson.Default.HandoffResult, statusCode: r.Ok ? 200 : 409);
        });
        app.MapGet(ControlApiPaths.Metrics, (ApiContext c, TimeProvider time) =>
            Results.Stream(s => c.WriteMetricsAsync(s, time.GetUtcNow()), DaemonMetrics.ContentType));
    }

    /// <summary>
    /// The API answers only on the Unix socket and /metrics only on the loopback TCP listener, so neither
    /// leaks onto the other's transport.
    /// </summary>
    public static async Task SeparateListeners(HttpContext context, RequestDelegate next)
    {
        bool tcp = context.Connection.LocalIpAddress is not null;
        bool metricsPath = context.Request.Path.Equals("/metrics", StringComparison.Ordinal);
        if (tcp != metricsPath)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        await next(context);
    }
}

/// <summary>The services the API reads, gathered so handlers stay one-liners.</summary>
public sealed class ApiContext(
    ConfigStore config, DaemonState state, DrainState drain, EventTimeline events, ChangeWriter writer,
    VipService vips, DaemonMetrics metrics, DaemonPorts ports, NodeFindings? nodeFindings = null)
{
    public DaemonState State => state;
    public DrainState Drain => drain;
    public EventTimeline Events => events;
    public DaemonMetrics Metrics => metrics;

    public Task WriteMetricsAsync(Stream to, DateTimeOffset now)
    {
        var cfg = config.Current;
        return metrics.WriteAsync(to, state.Current, now, new DaemonMetrics.NodeFacts(cfg.Node, cfg.Site, drain.Since(), events.CountsBySource()));
    }

    public StatusResponse Status()
    {
        var cfg = config.Current;
        var s = state.Current;
        var routes = writer.Ledger.Where(r => r.Subject is RouteSubject).Select(r => r.ToRecord()).ToList();
        return new StatusResponse(cfg.Node, cfg.Site, config.Generation, s.LastEvaluation, drain.Snapshot(), Vips(), s.Peers, routes, Environment.ProcessId)
        {
            Findings = nodeFindings?.Current ?? [],
            Transit = cfg.Transit,
        };
    }

    public IReadOnlyList<VipView> Vips()
    {
        var cfg = config.Current;
        return state.Current.Vips.Select(v =>
        {
            var rec = writer.Find(new VipSubject(v.Name));
            string running = rec?.Running switch { LedgerState.Present => "advertised", LedgerState.Absent => "withdrawn", _ => "unknown" };
            bool desired = v.State is VipState.Advertised or VipState.PendingWithdraw;
            return new VipView(v.Name, v.Prefix, v.Lease, v.LeaseHeld, v.State, v.Healthy, v.Reason, v.HealthyStreak, v.UnhealthyStreak,
                Math.Round(v.Penalty, 1), v.Flaps, v.Since, v.NextEvaluation, drain.IsDrained(v.Name),
                desired ? "advertised" : "withdrawn", running, rec?.LastApply);
        }).ToList();
    }

    public async Task<IResult> SetDrainAsync(string? vip, bool enter, CancellationToken ct)
    {
        var cfg = config.Current;
        if (vip is not null && cfg.FindVip(vip) is null)
            return Results.Json(new ApiError($"no VIP named '{vip}'", $"use one of: {string.Join(", ", cfg.Vips.Select(v => v.Name))}, or omit ?vip= for all"),
                ControlApiJson.Default.ApiError, statusCode: 404);
        if (enter) drain.Drain(vip); else drain.Undrain(vip);
        events.Append(EventSource.Operator, vip ?? "all VIPs", enter ? "drain" : "undrain", reason: "control API");
        // Answer once the loop has acted and the writer applied, so the caller sees the result, not the request.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        try { await vips.RequestEvaluationAsync(timeout.Token); }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
        return Results.Json(new VipsResponse(drain.Snapshot(), Vips()), ControlApiJson.Default.VipsResponse);
    }

    public async Task<ExplainResult> ExplainAsync(IPAddress dest, CancellationToken ct)
    {
        var cfg = config.Current;
        var unavailable = new List<ExplainFinding>();
        var wg = new List<WireGuardDevice>();
        foreach (var i in cfg.Interfaces)
            if (await Try("WireGuard " + i.Name, () => ports.WireGuard.GetInterfaceAsync(i.Name, ct), unavailable) is { } w) wg.Add(w);
        var kernel = await Try("kernel route lookup", () => ports.RouteLookup.LookupAsync(dest, ct), unavailable);
        var rib = await Try("FRR RIB", async () => (IReadOnlyList<RibEntry>?)await ports.Rib.GetCoveringAsync(dest, ct), unavailable) ?? [];
        var inventory = await Try("inventory", async () => (IReadOnlyList<InventoryOwnership>?)await ports.Inventory.GetAsync(ct), unavailable) ?? [];
        var result = RouteExplainer.Explain(new ExplainInput(dest, wg, kernel, rib, inventory));
        return unavailable.Count == 0 ? result : result with { Findings = [.. unavailable, .. result.Findings] };
    }

    // A source that cannot be read is named in the answer instead of failing the whole request.
    private static async Task<T?> Try<T>(string what, Func<Task<T?>> read, List<ExplainFinding> unavailable) where T : class
    {
        try { return await read(); }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            unavailable.Add(new ExplainFinding(FindingSeverity.Warning, "source-unavailable", $"{what} could not be read: {ex.Message}"));
            return null;
        }
    }
}
