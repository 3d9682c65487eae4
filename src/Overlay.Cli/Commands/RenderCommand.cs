using System.CommandLine;
using Overlay.Cli.Output;
using Overlay.Core.Diagnostics;
using Overlay.Core.Inventories;
using Overlay.Core.Lint;
using Overlay.Core.Render;

namespace Overlay.Cli.Commands;

/// <summary>
/// overlayctl render INVENTORY -o DIR [--node NAME] [--check] [--output text|json]:
/// lints the inventory, then renders each node's folder, or with --check reports which files would change.
/// Exit codes: 0 done / no drift, 1 drift (--check), 2 inventory or lint errors (nothing written) or I/O failure.
/// </summary>
internal static class RenderCommand
{
    public const int Ok = 0;
    public const int Drift = 1;
    public const int Failed = 2;

    public static Command Create()
    {
        var inventory = new Argument<string>("inventory") { Description = "Inventory YAML file" };
        var outDir = new Option<string>("--out", "-o") { Description = "Output folder (one sub-folder per node)", Required = true };
        var node = new Option<string?>("--node") { Description = "Render only this node" };
        var check = new Option<bool>("--check") { Description = "Compare with the output folder instead of writing; exit 1 on drift" };
        var output = new Option<string>("--output") { Description = "text or json", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");

        var command = new Command("render", "Render WireGuard, FRR and overlayd configuration for every node of an inventory")
        {
            inventory, outDir, node, check, output,
        };
        command.SetAction(parse => Run(
            parse.GetRequiredValue(inventory),
            parse.GetRequiredValue(outDir),
            parse.GetValue(node),
            parse.GetValue(check),
            parse.GetValue(output) == "json",
            Console.Out,
            Console.Error));
        return command;
    }

    internal static int Run(string inventoryPath, string outDir, string? nodeName, bool check, bool json, TextWriter stdout, TextWriter stderr)
    {
        var parsed = InventoryParser.Load(new DiskFiles(), inventoryPath);
        if (!parsed.Success)
        {
            if (json) WriteJson(stdout, parsed.Diagnostics, [], drift: null);
            else DiagnosticOutput.WriteText(stderr, parsed.Diagnostics);
            return Failed;
        }

        var inv = parsed.Inventory!;
        if (nodeName is not null && inv.FindNode(nodeName) is null)
        {
            var d = Diagnostic.Error("CLI001", new SourceLocation(inventoryPath, 0, 0), $"no node '{nodeName}' in the inventory",
                $"nodes: {string.Join(", ", inv.Nodes.Select(n => n.Name))}");
            if (json) WriteJson(stdout, [d], [], drift: null);
            else stderr.WriteLine(d.ToString());
            return Failed;
        }

        // A configuration lint rejects would not work on the nodes, so it is not rendered. Key-file modes
        // are unknown here: they live on the nodes (overlayctl lint --local-node checks them there).
        var diagnostics = parsed.Diagnostics.Concat(Linter.Lint(inv, FileSystemView.Unknown)).ToList();
        diagnostics.Sort(Diagnostic.Compare);
        if (diagnostics.Any(d => d.Severity == Severity.Error))
        {
            if (json) WriteJson(stdout, diagnostics, [], drift: null);
            else DiagnosticOutput.WriteText(stderr, diagnostics);
            return Failed;
        }
        if (!json) DiagnosticOutput.WriteText(stderr, diagnostics); // warnings

        var files = Renderer.Render(inv, nodeName);
        try
        {
            if (check)
            {
                var statuses = Compare(files, outDir, nodeName is null ? inv.Nodes.Select(n => n.Name) : [nodeName]);
                var drifting = statuses.Where(s => s.Status != "unchanged").ToList();
                if (json) WriteJson(stdout, diagnostics, statuses, drift: drifting.Count > 0);
                else if (drifting.Count == 0) stdout.WriteLine($"{files.Count} files up to date in {outDir}");
                else foreach (var s in drifting) stdout.WriteLine($"{s.Status}: {s.Path}");
                return drifting.Count > 0 ? Drift : Ok;
            }

            var written = Write(files, outDir);
            if (json) WriteJson(stdout, diagnostics, written, drift: null);
            else stdout.WriteLine($"wrote {files.Count} files for {files.Select(f => f.RelativePath.Split('/')[0]).Distinct().Count()} node(s) to {outDir}");
            return Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"{outDir}: error: {e.Message}");
            return Failed;
        }
    }

    internal sealed record FileStatus(string Path, string Status);

    /// <summary>unchanged / changed / mode (same bytes, other file mode) / missing (not on disk) / extra (on disk in a rendered node's folder, not rendered).</summary>
    private static List<FileStatus> Compare(IReadOnlyList<RenderedFile> files, string outDir, IEnumerable<string> nodes)
    {
        var result = new List<FileStatus>();
        var rendered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in files)
        {
            rendered.Add(f.RelativePath);
            string p = Path.Combine(outDir, f.RelativePath);
            string status = !File.Exists(p) ? "missing"
                : !File.ReadAllBytes(p).AsSpan().SequenceEqual(f.Utf8.Span) ? "changed"
                : !OperatingSystem.IsWindows() && File.GetUnixFileMode(p) != f.Mode ? "mode" // e.g. a WireGuard config others can read
                : "unchanged";
            result.Add(new FileStatus(f.RelativePath, status));
        }
        foreach (var node in nodes)
        {
            string dir = Path.Combine(outDir, node);
            if (!Directory.Exists(dir)) continue;
            foreach (var p in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
            {
                string rel = Path.GetRelativePath(outDir, p).Replace('\\', '/');
                if (!rendered.Contains(rel)) result.Add(new FileStatus(rel, "extra"));
            }
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return result;
    }

    /// <summary>
    /// Writes everything into a temporary folder beside <paramref name="outDir"/> first, then swaps each
    /// node's folder in with a rename, so a failure never leaves a node half-written.
    /// </summary>
    private static List<FileStatus> Write(IReadOnlyList<RenderedFile> files, string outDir)
    {
        string full = Path.GetFullPath(outDir);
        string parent = Path.GetDirectoryName(full.TrimEnd(Path.DirectorySeparatorChar)) ?? full;
        Directory.CreateDirectory(parent);
        string staging = Path.Combine(parent, $".{Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar))}.render-{Guid.NewGuid():N}");
        try
        {
            // Modes are set explicitly, not left to the umask: under umask 000 a world-writable staging folder would
            // let another user swap files in before the rename, and WireGuard configs must never be readable by others.
            CreateDirectory(staging, OwnerOnly);
            foreach (var f in files)
            {
                string p = Path.Combine(staging, f.RelativePath);
                string dir = Path.GetDirectoryName(p)!;
                if (!Directory.Exists(dir))
                {
                    if (!Directory.Exists(Path.GetDirectoryName(dir)!)) CreateDirectory(Path.GetDirectoryName(dir)!, NodeFolder);
                    CreateDirectory(dir, Path.GetFileName(dir) == "wireguard" ? OwnerOnly : NodeFolder);
                }
                WriteFile(p, f.Utf8.Span, f.Mode);
            }
            foreach (var node in files.Select(f => f.RelativePath.Split('/')[0]).Distinct(StringComparer.Ordinal))
                SetMode(Path.Combine(staging, node), NodeFolder);
            if (!Directory.Exists(full)) CreateDirectory(full, NodeFolder);
            foreach (var node in files.Select(f => f.RelativePath.Split('/')[0]).Distinct(StringComparer.Ordinal))
            {
                string target = Path.Combine(full, node);
                string old = Path.Combine(staging, ".old-" + node);
                if (Directory.Exists(target)) Directory.Move(target, old);
                Directory.Move(Path.Combine(staging, node), target);
            }
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
        return [.. files.Select(f => new FileStatus(f.RelativePath, "written"))];
    }

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode NodeFolder = OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;

    private static void CreateDirectory(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) { Directory.CreateDirectory(path); return; }
        Directory.CreateDirectory(path, mode);
        SetMode(path, mode); // the umask may have taken bits away
    }

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, mode);
    }

    /// <summary>Created with the mode (never wider, even for an instant), then set to exactly it whatever the umask.</summary>
    private static void WriteFile(string path, ReadOnlySpan<byte> bytes, UnixFileMode mode)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = mode;
        using var stream = new FileStream(path, options);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(stream.SafeFileHandle, mode);
        stream.Write(bytes);
    }

    private static void WriteJson(TextWriter stdout, IReadOnlyList<Diagnostic> diagnostics, IReadOnlyList<FileStatus> files, bool? drift) =>
        DiagnosticOutput.WriteJson(stdout, diagnostics, w =>
        {
            w.WriteStartArray("files");
            foreach (var f in files)
            {
                w.WriteStartObject();
                w.WriteString("path", f.Path);
                w.WriteString("status", f.Status);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (drift is { } value) w.WriteBoolean("drift", value);
        });
}
