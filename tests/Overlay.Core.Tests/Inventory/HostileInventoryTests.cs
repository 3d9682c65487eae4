using System.Text;
using Overlay.Core.Config;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Render;
using Overlay.Core.Rotation;

namespace Overlay.Core.Tests.Inventories;

/// <summary>
/// Hostile values in every free-text field of the inventory (docs/security.md, "Inventory and rendered files"): each is
/// either refused by the reader with an error located on the line that holds it (and nowhere else: no cascade), or the
/// rendered files and rotation commands are provably inert: every shell word of a hook or command is a plain word, every
/// rendered byte is printable ASCII, frr.conf lines start with known commands and overlayd.yaml reads back as written.
/// </summary>
public class HostileInventoryTests
{
    private static readonly string K1 = Convert.ToBase64String(Enumerable.Repeat((byte)1, 32).ToArray());
    private static readonly string K2 = Convert.ToBase64String(Enumerable.Repeat((byte)2, 32).ToArray());
    private static readonly string K3 = Convert.ToBase64String(Enumerable.Repeat((byte)3, 32).ToArray());

    // Every placeholder sits on its own line, so a diagnostic's line says which value it is about.
    private static readonly string Template = $$"""
        defaults:
          keyFile: {DKEY}
        frr:
          pathspace: {PS}
          vtyDir: {VTY}
        daemon:
          socket: {SOCK}
          drainFile: {DRAIN}
          group: {GRP}
        gate: [10.0.0.0/8, 224.0.0.5/32, 224.0.0.6/32]
        policies:
          {POL}: { interval: 1s }
        nodes:
          - name: {HUB}
            id: 1
            role: hub
            short: {SHORT}
            site: {SITE}
            overlay: { v4: 10.0.0.1 }
            endpoint: {EP}
            publicKey: {{K1}}
            keyFile: {KEY}
          - name: spoke1
            id: 2
            overlay: { v4: 10.0.0.2 }
            nat: true
            publicKey: {{K2}}
          - name: spoke2
            id: 3
            overlay: { v4: 10.0.0.3 }
            endpoint: 192.0.2.3:51820
            publicKey: {{K3}}
        topology:
          type: hubAndSpoke
          primary: { node: {PRIMARY}, cost: 10 }
          shortcuts:
            - between: [spoke1, {BETWEEN}]
        vips:
          - name: {VIP}
            prefix: 203.0.113.10/32
            members: [spoke1,
              {MEMBER}]
            policy: {VIPPOL}
        """;

    private static readonly Dictionary<string, string> Benign = new()
    {
        ["DKEY"] = "/etc/overlay/wg.key", ["PS"] = "edge1", ["VTY"] = "/var/run/frr", ["SOCK"] = "/run/overlay/overlayd.sock",
        ["DRAIN"] = "/etc/overlay/drain", ["GRP"] = "overlay", ["POL"] = "strict", ["HUB"] = "hub1", ["SHORT"] = "h1",
        ["SITE"] = "dc1", ["EP"] = "192.0.2.1:51820", ["KEY"] = "/etc/overlay/hub.key", ["PRIMARY"] = "hub1",
        ["BETWEEN"] = "spoke2", ["VIP"] = "web", ["MEMBER"] = "hub1", ["VIPPOL"] = "strict",
    };

    /// <summary>Fields and the placeholders a value goes into together (a renamed node keeps its references).</summary>
    private static readonly (string Field, string[] Slots, string Suffix)[] Fields =
    [
        ("node keyFile", ["KEY"], ""),
        ("defaults.keyFile", ["DKEY"], ""),
        ("frr.vtyDir", ["VTY"], ""),
        ("frr.pathspace", ["PS"], ""),
        ("daemon.socket", ["SOCK"], ""),
        ("daemon.drainFile", ["DRAIN"], ""),
        ("daemon.group", ["GRP"], ""),
        ("node name", ["HUB", "PRIMARY", "MEMBER"], ""),
        ("short", ["SHORT"], ""),
        ("site", ["SITE"], ""),
        ("endpoint host", ["EP"], ":51820"),
        ("endpoint", ["EP"], ""),
        ("policy name", ["POL", "VIPPOL"], ""),
        ("VIP policy reference", ["VIPPOL"], ""),
        ("VIP name", ["VIP"], ""),
        ("VIP member", ["MEMBER"], ""),
        ("shortcut end", ["BETWEEN"], ""),
    ];

    /// <summary>Shell, wg-quick, FRR, systemd and YAML metacharacters, encodings, paths and sizes.</summary>
    public static readonly string[] HostileValues =
    [
        "; reboot", "$(touch /tmp/pwned)", "`id`", "${IFS}id", "a b", "'quoted'", "\"double\"", "a;b", "a|b", "a&b", "a&&b",
        "a>b", "a<b", "a(b)", "{a,b}", "a*", "a?", "[ab]", "~root", "!1", "a#b", "a%ib", "%i", "a\\b", "a=b", "a,b", "a:b",
        "a\nb", "a\r\nb", "a\rb", "a\tb", "a\0b", "a\u2028b", "a\u2029b", "a\u0085b", "a\u000bb", "a\u000cb", "\u202eevil",
        "a\u200bb", "\ufeffa", "a\u00a0b", "é", "ＡＢＣ", "a\U0001F600b", "\u0000", "", " ", "\t", "-rf", "--help",
        "..", ".", "../../etc/shadow", "/etc/../etc/shadow", "/etc/./overlay/key", "relative/path", "/etc//overlay/key",
        "/etc/overlay/", "/", "/etc/overlay/key #comment", "/etc/overlay/%i.key", "/etc/overlay/key;reboot",
        "/etc/overlay/key$(id)", "/etc/overlay/key`id`", "/etc/overlay/k y", "/etc/overlay/key\nPostUp = id",
        "/etc/overlay/key\u2028PostUp = id", "/etc/overlay/key'", "/etc/overlay/key\"", "/etc/overlay/key|id",
        "/etc/overlay/key>/etc/passwd", "/etc/overlay/*", "/etc/overlay/\u00e9.key", "/etc/overlay/" + new string('a', 300),
        "/" + string.Join('/', Enumerable.Repeat("d", 3000)), new string('x', 100_000),
        "hub1\n!\ninterface lo\n ip address 192.0.2.66/32", "x\nexit\nrouter bgp 1", "x\n[Interface]\nPostUp = id",
        "x\n[Service]\nExecStartPre=/bin/sh -c id", "wg-quick@x;id", "x # comment", "x\\nb", "&anchor", "*alias", "@x",
        "0x7f.1", "2130706433", "127.1", "localhost", "LOCALHOST", "a.localhost", "010.0.0.1", "0.0.0.0", "127.0.0.1",
        "224.0.0.5", "255.255.255.255", "[::1]", "[::]", "[ff02::1]", "[fe80::1%eth0]", "[::ffff:127.0.0.1]",
        "vpn..example.net", "-vpn.example.net", "vpn-.example.net", new string('a', 64) + ".example.net", "1.2.3.4.5",
    ];

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var (field, _, _) in Fields)
            for (int i = 0; i < HostileValues.Length; i++)
                data.Add(field, i);
        return data;
    }

    [Fact]
    public void Corpus_is_large() => Assert.True(Cases().Count > 1500, $"{Cases().Count} cases");

    [Fact]
    public void Benign_template_renders_and_is_inert()
    {
        var r = InventoryParser.Parse(Fill(Benign), "t.yaml");
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        AssertInert(r.Inventory!);
    }

    [Theory]
    [InlineData("node keyFile", "/etc/overlay/keys/hub1@v2+old_1.key")]
    [InlineData("frr.pathspace", "")]
    [InlineData("frr.pathspace", "edge_1-a")]
    [InlineData("daemon.group", "_overlay-ops")]
    [InlineData("site", "eu-west_1.a")]
    [InlineData("endpoint host", "vpn-1.example.net")]
    [InlineData("endpoint host", "[2001:db8::1]")]
    [InlineData("policy name", "Strict-2")]
    public void Unusual_but_valid_values_are_accepted_and_inert(string field, string value)
    {
        var r = InventoryParser.Parse(With(field, value), "t.yaml");
        Assert.True(r.Success, string.Join("\n", r.Diagnostics));
        AssertInert(r.Inventory!);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Hostile_value_is_refused_where_it_is_written_or_rendered_inert(string field, int index)
    {
        string value = HostileValues[index];
        string text = With(field, value);
        var r = InventoryParser.Parse(text, "t.yaml");
        foreach (var d in r.Diagnostics)
            Assert.True((d.Message + d.Hint).All(c => c >= ' ' && c != '\u007f' && c is not ('\u2028' or '\u2029' or '\u0085' or '\u202e')),
                $"unescaped control character in: {d}");
        Assert.True(r.Diagnostics.Count < 10, $"{r.Diagnostics.Count} diagnostics for one value");
        if (!r.Success)
        {
            var lines = LinesOf(field);
            Assert.Contains(r.Diagnostics, d => d.Severity == Severity.Error);
            // Located on the value's own line, and nothing elsewhere: one bad value, one place to fix.
            Assert.All(r.Diagnostics, d => Assert.True(lines.Contains(d.Line), $"{field} = {Show(value)}: {d} is not on line(s) {string.Join(",", lines)}"));
            return;
        }
        AssertInert(r.Inventory!);
    }

    private static string Show(string value) => ValueGrammar.Printable(value, 60);

    private static string With(string field, string value)
    {
        var (_, slots, suffix) = Fields.Single(f => f.Field == field);
        var values = new Dictionary<string, string>(Benign);
        foreach (var slot in slots) values[slot] = value + suffix;
        return Fill(values, slots);
    }

    private static string Fill(Dictionary<string, string> values, string[]? quoted = null)
    {
        string text = Template.Replace("\r", "");
        foreach (var (slot, v) in values)
            text = text.Replace("{" + slot + "}", quoted is not null && quoted.Contains(slot) ? YamlQuote(v) : v);
        return text;
    }

    private static HashSet<int> LinesOf(string field)
    {
        var (_, slots, _) = Fields.Single(f => f.Field == field);
        var lines = Template.Replace("\r", "").Split('\n');
        return [.. slots.SelectMany(s => lines.Select((l, i) => (l, i)).Where(x => x.l.Contains("{" + s + "}")).Select(x => x.i + 1))];
    }

    /// <summary>A YAML double-quoted scalar that spells any string with escapes, on one line.</summary>
    internal static string YamlQuote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var rune in s.EnumerateRunes())
        {
            if (rune.Value == '"') sb.Append("\\\"");
            else if (rune.Value == '\\') sb.Append("\\\\");
            else if (rune.Value is >= 0x20 and <= 0x7e) sb.Append((char)rune.Value);
            else if (rune.Value <= 0xffff) sb.Append($"\\u{rune.Value:x4}");
            else sb.Append($"\\U{rune.Value:x8}");
        }
        return sb.Append('"').ToString();
    }

    /// <summary>A word a POSIX shell reads as itself, with no quoting, expansion or operator.</summary>
    private static bool PlainWord(string w) =>
        w.Length > 0 && w.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '@' or '+' or '/' or '-' or '=' or ',' or ':')
        // or single-quoted: nothing inside is special to sh, so it must only not hold a quote itself.
        || (w.Length >= 2 && w[0] == '\'' && w[^1] == '\'' && !w[1..^1].Contains('\''));

    private static readonly string[] FrrCommands =
    [
        "!", "frr", "hostname", "service", "ip", "ipv6", "route-map", "match", "exit", "interface", "description", "router",
        "ospf", "redistribute", "bgp", "no", "neighbor", "address-family", "activate", "exit-address-family", "bfd",
        "profile", "detect-multiplier", "receive-interval", "transmit-interval", "peer", "end", "network", "passive-interface",
        "timers",
    ];

    internal static void AssertInert(Overlay.Core.Inventories.Inventory inventory)
    {
        foreach (var f in Renderer.Render(inventory))
        {
            string content = f.Content;
            Assert.True(content.All(c => c == '\n' || c is >= ' ' and <= '~'), $"{f.RelativePath} holds a byte outside printable ASCII");
            Assert.True(f.RelativePath.Split('/').All(s => s.Length > 0 && s != ".." && s != "." && PlainWord(s)), $"unsafe path {f.RelativePath}");
            if (f.RelativePath.Contains("/wireguard/"))
            {
                Assert.Equal(RenderedFile.PrivateMode, f.Mode);
                foreach (var line in content.Split('\n').Where(l => l.StartsWith("PostUp", StringComparison.Ordinal)))
                {
                    // wg-quick cuts a line at '#', substitutes %i and hands the rest to bash: only plain words may remain.
                    Assert.DoesNotContain('#', line);
                    var words = line["PostUp = ".Length..].Split(' ');
                    Assert.Equal(new[] { "wg", "set", "%i", "private-key" }, words[..4]);
                    Assert.Equal(5, words.Length);
                    Assert.True(PlainWord(words[4]) && ValueGrammar.IsAbsolutePath(words[4]), $"key path word '{words[4]}'");
                }
            }
            else if (f.RelativePath.EndsWith("frr.conf", StringComparison.Ordinal))
            {
                foreach (var line in content.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    Assert.Contains(line.TrimStart().Split(' ')[0], FrrCommands);
            }
            else if (f.RelativePath.EndsWith("overlayd.yaml", StringComparison.Ordinal))
            {
                var loaded = NodeConfigYaml.Read(f.Content, f.RelativePath);
                Assert.True(loaded.Ok, string.Join("\n", loaded.Errors));
                var node = inventory.GetNode(f.RelativePath.Split('/')[0]);
                Assert.Equal(node.Name, loaded.Config!.Node);
                Assert.Equal(node.Site, loaded.Config.Site);
                Assert.Equal(inventory.Daemon.ApiGroup, loaded.Config.Api.Group);
                Assert.Equal(inventory.Frr.Pathspace, loaded.Config.Frr.Pathspace);
                Assert.Equal(inventory.Daemon.DrainFile, loaded.Config.Drain.File);
            }
        }

        // The rotation planner's shell commands: every word plain (the operators are the planner's own).
        foreach (var node in inventory.Nodes.Where(n => inventory.TunnelsOf(n.Name).Count > 0))
        {
            var plans = RotationPlanner.Plan(inventory, node.Name, new RotationOptions { NewPublicKey = Overlay.Core.Net.WireGuardKey.Parse(K3) });
            foreach (var plan in new[] { plans.MakeBeforeBreak, plans.InPlace })
                foreach (var change in plan.Phases.SelectMany(p => p.Changes.Concat(p.Rollback)))
                {
                    foreach (var line in change.Lines)
                    {
                        Assert.True(line.All(c => c is >= ' ' and <= '~'), $"non-printable character in a plan line: {ValueGrammar.Printable(line)}");
                        if (change.Kind is RotationChangeKind.FrrConfig or RotationChangeKind.WriteInterface or RotationChangeKind.UpdateInventory) continue;
                        string command = line.Split("   #")[0];
                        foreach (var word in command.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                        {
                            string w = word.Trim('(', ')');
                            if (w is ";" or ">" or "<" or "&&" or "..." || w.Length == 0) continue;
                            Assert.True(PlainWord(w.TrimEnd(';').Replace("%i", "")) || w.StartsWith("overlayctl", StringComparison.Ordinal), $"shell word '{w}' in '{command}'");
                        }
                    }
                }
        }
    }
}

/// <summary>The same corpus against overlayd's own loader, for hand-written overlayd.yaml files.</summary>
public class HostileNodeConfigTests
{
    private static readonly (string Field, string Line, Func<string, bool> Grammar)[] Fields =
    [
        ("node", "node: dc1-edge1", ValueGrammar.IsLabel),
        ("site", "site: dc1", ValueGrammar.IsLabel),
        ("api.socket", "  socket: /run/overlay/overlayd.sock", ValueGrammar.IsAbsolutePath),
        ("api.group", "  group: overlay", ValueGrammar.IsGroupName),
        ("frr.pathspace", "  pathspace: \"\"", ValueGrammar.IsPathspace),
        ("frr.vtyDir", "  vtyDir: /var/run/frr", ValueGrammar.IsAbsolutePath),
        ("frr.grpc.host", "    host: 127.0.0.1", v => Overlay.Core.Net.IpAddressText.TryParse(v, out var a) && Overlay.Core.Net.IpAddressText.SpecialKind(a) is null or "loopback"),
        ("interfaces[0].peer", "    peer: upstream1", ValueGrammar.IsLabel),
        ("vips[0].name", "  - name: web", ValueGrammar.IsLabel),
        ("vips[0].lease", "    lease: ovl-web", ValueGrammar.IsInterfaceName),
        ("drain.file", "  file: /etc/overlay/drain", ValueGrammar.IsAbsolutePath),
        ("inventory", "inventory: /etc/overlay/inventory.yaml", ValueGrammar.IsAbsolutePath),
    ];

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var (field, _, _) in Fields)
            for (int i = 0; i < HostileInventoryTests.HostileValues.Length; i++)
                data.Add(field, i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Hostile_value_is_refused_at_its_line_unless_it_meets_the_grammar(string field, int index)
    {
        string value = HostileInventoryTests.HostileValues[index];
        var (_, line, grammar) = Fields.Single(f => f.Field == field);
        string sample = Overlay.Core.Tests.Config.NodeConfigLoaderTests.Sample.Replace("\r", "") + (field == "inventory" ? "\n" + line + "\n" : "");
        var lines = sample.Split('\n').ToList();
        int at = lines.FindIndex(l => l == line);
        Assert.True(at >= 0, line);
        lines[at] = line[..(line.IndexOf(':') + 2)] + HostileInventoryTests.YamlQuote(value);
        var r = NodeConfigYaml.Read(string.Join('\n', lines), "f.yaml");
        Assert.All(r.Errors, e => Assert.True((e.Message + e.Hint + e.Path).All(c => c >= ' ' && c is not ('\u2028' or '\u2029' or '\u0085' or '\u202e')), e.ToString()));
        if (grammar(value) && (field != "vips[0].lease" || value.Length <= 15)) return;
        Assert.False(r.Ok, $"{field} = {ValueGrammar.Printable(value, 60)} was accepted");
        Assert.Contains(r.Errors, e => e.Line == at + 1);
    }
}
