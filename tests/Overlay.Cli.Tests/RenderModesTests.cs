using System.Runtime.InteropServices;
using Overlay.Cli.Commands;

namespace Overlay.Cli.Tests;

[CollectionDefinition("umask", DisableParallelization = true)]
public sealed class UmaskCollection;

/// <summary>
/// Rendered files get their documented modes whatever the umask: WireGuard configs 0600 (wg-quick warns about
/// anything looser), frr.conf and overlayd.yaml 0640, folders 0750 (wireguard/ 0700). The umask is process-wide,
/// so these tests run alone.
/// </summary>
[Collection("umask")]
public sealed class RenderModesTests : IDisposable
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Shared = Private | UnixFileMode.GroupRead;
    private const UnixFileMode NodeFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
    private const UnixFileMode OwnerFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly string _dir = Directory.CreateTempSubdirectory("overlayctl-modes-").FullName;
    private static readonly string Example = Path.Combine(FindRoot(), "examples", "hub-spoke.yaml");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static uint SetUmask(uint mask) => (ushort)Tmds.Linux.LibC.umask((ushort)mask);

    [Theory]
    [InlineData(0u)]      // umask 000: nothing would be taken away
    [InlineData(0x3Fu)]   // umask 077: group bits would be taken away
    [InlineData(0x12u)]   // umask 022, the usual one
    public void Modes_do_not_depend_on_the_umask(uint umask)
    {
        string outDir = Path.Combine(_dir, "out");
        uint previous = SetUmask(umask);
        int code;
        try
        {
            code = RenderCommand.Run(Example, outDir, null, check: false, json: false, TextWriter.Null, TextWriter.Null);
        }
        finally
        {
            SetUmask(previous);
        }
        Assert.Equal(RenderCommand.Ok, code);
        var files = Directory.EnumerateFiles(outDir, "*", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        foreach (var f in files)
            Assert.Equal(f.Contains("/wireguard/") ? Private : Shared, File.GetUnixFileMode(f));
        foreach (var d in Directory.EnumerateDirectories(outDir, "*", SearchOption.AllDirectories))
            Assert.Equal(Path.GetFileName(d) == "wireguard" ? OwnerFolder : NodeFolder, File.GetUnixFileMode(d));
    }

    [Fact]
    public void Check_reports_a_file_whose_mode_drifted()
    {
        string outDir = Path.Combine(_dir, "out");
        Assert.Equal(RenderCommand.Ok, RenderCommand.Run(Example, outDir, null, false, false, TextWriter.Null, TextWriter.Null));
        string conf = Directory.EnumerateFiles(Path.Combine(outDir, "hub1", "wireguard")).First();
        File.SetUnixFileMode(conf, Shared | UnixFileMode.OtherRead);
        var stdout = new StringWriter();
        Assert.Equal(RenderCommand.Drift, RenderCommand.Run(Example, outDir, null, true, false, stdout, TextWriter.Null));
        Assert.Contains($"mode: {Path.GetRelativePath(outDir, conf)}", stdout.ToString());
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Overlay.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find Overlay.sln");
    }
}
