using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Net;

namespace Overlay.Core.Lint;

/// <summary>
/// Reads the parts of a wg-quick / wg setconf file that lint checks ([Interface] ListenPort,
/// [Peer] PublicKey, AllowedIPs, Endpoint, PersistentKeepalive). Other keys are skipped; the
/// PrivateKey value is never read into memory beyond the line that holds it.
/// </summary>
public static class WgQuickReader
{
    public sealed record Result(PeerList? PeerList, IReadOnlyList<Diagnostic> Diagnostics);

    /// <summary>Diagnostic code for a malformed line (the parser's family, not a lint rule).</summary>
    public const string SyntaxCode = "WGC001";

    public static Result Read(string text, string file, string node, string interfaceName)
    {
        var diagnostics = new List<Diagnostic>();
        var peers = new List<PeerEntry>();
        int? listenPort = null;
        string? section = null;
        PeerBuilder? peer = null;

        void FlushPeer()
        {
            if (peer is null) return;
            if (peer.Key is { } key) peers.Add(new PeerEntry(key, peer.AllowedIps, peer.Endpoint, peer.Keepalive, peer.Location));
            else diagnostics.Add(Diagnostic.Error(SyntaxCode, peer.Location, "[Peer] without PublicKey", "add 'PublicKey = <base64>' to the section"));
            peer = null;
        }

        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNo = i + 1;
            string raw = lines[i].TrimEnd('\r');
            int hash = raw.IndexOf('#');
            string line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length == 0) continue;
            int indent = raw.Length - raw.TrimStart().Length;
            var at = new SourceLocation(file, lineNo, indent + 1);
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                FlushPeer();
                section = line[1..^1].Trim();
                if (section == "Peer") peer = new PeerBuilder(at);
                else if (section != "Interface")
                    diagnostics.Add(Diagnostic.Error(SyntaxCode, at, $"unknown section [{section}]", "expected [Interface] or [Peer]"));
                continue;
            }
            int eq = line.IndexOf('=');
            if (eq <= 0 || section is null)
            {
                diagnostics.Add(Diagnostic.Error(SyntaxCode, at, "expected 'Key = Value' inside a section", "check the line against wg(8)'s CONFIGURATION FILE FORMAT"));
                continue;
            }
            string name = line[..eq].Trim();
            string value = line[(eq + 1)..].Trim();
            int valueStart = raw.IndexOf('=') + 1;
            while (valueStart < raw.Length && char.IsWhiteSpace(raw[valueStart])) valueStart++;
            int valueColumn = valueStart + 1;
            var valueAt = new SourceLocation(file, lineNo, valueColumn);

            if (section == "Interface")
            {
                if (name.Equals("ListenPort", StringComparison.OrdinalIgnoreCase))
                {
                    if (int.TryParse(value, out int port) && port is >= 0 and <= 65535) listenPort = port;
                    else diagnostics.Add(Diagnostic.Error(SyntaxCode, valueAt, $"ListenPort '{value}' is not a port", "use 0..65535"));
                }
                continue;
            }
            if (peer is null) continue;
            switch (name.ToLowerInvariant())
            {
                case "publickey":
                    if (WireGuardKey.TryParse(value, out var key, out var err)) peer.Key = key;
                    else diagnostics.Add(Diagnostic.Error(SyntaxCode, valueAt, err!, "copy the key printed by 'wg pubkey'"));
                    break;
                case "allowedips":
                    ReadPrefixes(raw, lineNo, file, valueColumn, peer.AllowedIps, diagnostics);
                    break;
                case "endpoint":
                    peer.Endpoint = value;
                    break;
                case "persistentkeepalive":
                    if (value.Equals("off", StringComparison.OrdinalIgnoreCase)) peer.Keepalive = TimeSpan.Zero;
                    else if (int.TryParse(value, out int seconds) && seconds is >= 0 and <= 65535) peer.Keepalive = TimeSpan.FromSeconds(seconds);
                    else diagnostics.Add(Diagnostic.Error(SyntaxCode, valueAt, $"PersistentKeepalive '{value}' is not a number of seconds", "use 0..65535 or off"));
                    break;
            }
        }
        FlushPeer();
        var list = new PeerList(node, interfaceName, listenPort, peers, new SourceLocation(file, 1, 1));
        return new Result(diagnostics.Any(d => d.Severity == Severity.Error) ? null : list, diagnostics);
    }

    private static void ReadPrefixes(string raw, int lineNo, string file, int valueColumn, List<AllowedIp> into, List<Diagnostic> diagnostics)
    {
        // Walk the raw line so every prefix keeps its own column.
        int end = raw.IndexOf('#') is var h and >= 0 ? h : raw.Length;
        int pos = valueColumn - 1;
        while (pos < end)
        {
            int comma = raw.IndexOf(',', pos, end - pos);
            int stop = comma < 0 ? end : comma;
            string item = raw[pos..stop];
            string trimmed = item.Trim();
            if (trimmed.Length > 0)
            {
                int column = pos + item.IndexOf(trimmed[0]) + 1;
                if (IpPrefix.TryParse(trimmed, strict: false, out var p, out var error)) into.Add(new AllowedIp(p, lineNo, column));
                else diagnostics.Add(Diagnostic.Error(SyntaxCode, new SourceLocation(file, lineNo, column), error!, "write AllowedIPs as comma-separated prefixes"));
            }
            pos = stop + 1;
        }
    }

    private sealed class PeerBuilder(SourceLocation location)
    {
        public SourceLocation Location { get; } = location;
        public WireGuardKey? Key { get; set; }
        public List<AllowedIp> AllowedIps { get; } = [];
        public string? Endpoint { get; set; }
        public TimeSpan Keepalive { get; set; }
    }
}
