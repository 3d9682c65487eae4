using System.CommandLine;
using Overlay.Cli.Output;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Lint;

namespace Overlay.Cli.Commands;

/// <summary>
/// overlayctl lint INVENTORY [--peers NODE=FILE]... [--local-node NAME] [--output text|json] [--rules] [--keepalive]:
/// prints <c>file:line:col: severity RULE: message (hint)</c> per finding.
/// Exit codes: 0 clean (or info only), 1 warnings, 2 errors (including an inventory that does not parse).
/// </summary>
internal static class LintCommand
{
    public const int Clean = 0;
    public const int Warnings = 1;
    public const int Errors = 2;

    public static Command Create()
    {
        var inventory = new Argument<string?>("inventory") { Description = "Inventory YAML file", Arity = ArgumentArity.ZeroOrOne };
        var peers = new Option<string[]>("--peers")
        {
            Description = "A hand-written wg-quick file of a node, as NODE=FILE (repeatable); the interface is named after the file",
        };
        var localNode = new Option<string?>("--local-node") { Description = "This machine is this node: check its key file's mode here" };
        var output = new Option<string>("--output") { Description = "text or json", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");
        var rules = new Option<bool>("--rules") { Description = "List the rules and exit" };
        var keepalive = new Option<bool>("--keepalive")
        {
            Description = "Also explain each NATed node's keepalive and report the keepalive traffic the inventory implies (per node and fleet-wide)",
        };

        var command = new Command("lint", "Check an inventory (and legacy peer lists) for configurations that will not work")
        {
            inventory, peers, localNode, output, rules, keepalive,
        };
        command.SetAction(parse =>
        {
            if (parse.GetValue(rules)) return ListRules(Console.Out);
            if (parse.GetValue(inventory) is not { } path)
            {
                Console.Error.WriteLine("lint: error: the inventory file is missing (overlayctl lint INVENTORY)");
                return Errors;
            }
            return Run(path, parse.GetValue(peers) ?? [], parse.GetValue(localNode), parse.GetValue(output) == "json", Console.Out, Console.Error,
                parse.GetValue(keepalive));
        });
        return command;
    }

    internal static int ListRules(TextWriter stdout)
    {
        foreach (var r in LintRules.All) stdout.WriteLine(r.ToString());
        return Clean;
    }

    internal static int Run(string inventoryPath, IReadOnlyList<string> peerFiles, string? localNode, bool json, TextWriter stdout, TextWriter stderr,
        bool keepalive = false)
    {
        Overlay.Core.Nat.KeepaliveTrafficReport? traffic = null;
        var all = new List<Diagnostic>();
        var parsed = InventoryParser.Load(new DiskFiles(), inventoryPath);
        all.AddRange(parsed.Diagnostics);
        if (parsed.Inventory is { } inv)
        {
            var lists = new List<PeerList>();
            foreach (var spec in peerFiles)
            {
                int eq = spec.IndexOf('=');
                if (eq <= 0 || eq == spec.Length - 1)
                {
                    all.Add(Diagnostic.Error("CLI002", new SourceLocation(spec, 0, 0), $"--peers '{spec}' is not NODE=FILE", "e.g. --peers hub1=/etc/wireguard/wg0.conf"));
                    continue;
                }
                string node = spec[..eq], file = spec[(eq + 1)..];
                if (inv.FindNode(node) is null)
                    all.Add(Diagnostic.Error("CLI001", new SourceLocation(file, 0, 0), $"no node '{node}' in the inventory", $"nodes: {string.Join(", ", inv.Nodes.Select(n => n.Name))}"));
                else if (!File.Exists(file))
                    all.Add(Diagnostic.Error("CLI003", new SourceLocation(file, 0, 0), "peer list file not found", "check the path"));
                else if (!SourceText.TryDecode(File.ReadAllBytes(file), out string text, out int line, out int column, out string? encodingError))
                    all.Add(Diagnostic.Error("CLI004", new SourceLocation(file, line, column), encodingError!, "save the peer list as UTF-8"));
                else
                {
                    var read = WgQuickReader.Read(text, file, node, Path.GetFileNameWithoutExtension(file));
                    all.AddRange(read.Diagnostics);
                    if (read.PeerList is { } list) lists.Add(list);
                }
            }
            if (localNode is not null && inv.FindNode(localNode) is null)
                all.Add(Diagnostic.Error("CLI001", new SourceLocation(inventoryPath, 0, 0), $"no node '{localNode}' in the inventory", $"nodes: {string.Join(", ", inv.Nodes.Select(n => n.Name))}"));
            IFileSystemView files = localNode is null ? FileSystemView.Unknown : new LocalFiles(localNode);
            all.AddRange(Linter.Lint(inv, files, lists));
            if (keepalive) traffic = Overlay.Core.Nat.KeepaliveTrafficReport.Compute(inv);
        }
        all.Sort(Diagnostic.Compare);

        int errors = all.Count(d => d.Severity == Severity.Error);
        int warnings = all.Count(d => d.Severity == Severity.Warning);
        if (json) WriteJson(stdout, all, errors, warnings, traffic);
        else
        {
            DiagnosticOutput.WriteText(stdout, all);
            if (traffic is not null) KeepaliveOutput.WriteText(stdout, traffic);
            stderr.WriteLine($"{errors} error(s), {warnings} warning(s), {all.Count - errors - warnings} info");
        }
        return errors > 0 ? Errors : warnings > 0 ? Warnings : Clean;
    }

    private static void WriteJson(TextWriter stdout, IReadOnlyList<Diagnostic> diagnostics, int errors, int warnings, Overlay.Core.Nat.KeepaliveTrafficReport? traffic) =>
        DiagnosticOutput.WriteJson(stdout, diagnostics, w =>
        {
            w.WriteStartObject("summary");
            w.WriteNumber("errors", errors);
            w.WriteNumber("warnings", warnings);
            w.WriteNumber("info", diagnostics.Count - errors - warnings);
            w.WriteEndObject();
            if (traffic is not null) KeepaliveOutput.WriteJson(w, traffic);
        });

    /// <summary>File modes of this machine, for the one node it is.</summary>
    private sealed class LocalFiles(string node) : IFileSystemView
    {
        public UnixFileMode? GetMode(string n, string path) =>
            n == node && !OperatingSystem.IsWindows() && File.Exists(path) ? File.GetUnixFileMode(path) : null;
    }
}
