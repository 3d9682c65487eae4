using System.Diagnostics;
using Overlay.Core.Render;

namespace Overlay.Core.Tests.Render;

/// <summary>Every rendered frr.conf must be accepted by the installed FRR's own parser (vtysh --dryrun).</summary>
public class FrrSyntaxTests(ITestOutputHelper output)
{
    private const string Vtysh = "/usr/bin/vtysh";

    [SkippableTheory]
    [InlineData("anycast-2dc")]
    [InlineData("hub-spoke")]
    [InlineData("mesh-40")]
    public void Rendered_frr_conf_passes_vtysh_dryrun(string example)
    {
        Skip.IfNot(File.Exists(Vtysh), "vtysh (FRR) is not installed; frr/install.sh installs it");
        var files = GoldenTests.RenderExample(example).Where(f => f.RelativePath.EndsWith("/frr/frr.conf")).ToList();
        // The 40 mesh nodes differ only in numbers; a sample keeps the test quick on a shared machine.
        if (files.Count > 10) files = [.. files.Where((_, i) => i % 8 == 0)];
        string dir = Directory.CreateTempSubdirectory("overlay-frr-dryrun-").FullName;
        try
        {
            var sw = Stopwatch.StartNew();
            foreach (var f in files)
            {
                string path = Path.Combine(dir, f.RelativePath.Replace('/', '_'));
                File.WriteAllText(path, f.Content);
                using var p = Process.Start(new ProcessStartInfo(Vtysh, ["--dryrun", "-f", path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
                string stdout = p.StandardOutput.ReadToEnd();
                string stderr = p.StandardError.ReadToEnd();
                p.WaitForExit();
                Assert.True(p.ExitCode == 0, $"{f.RelativePath}: vtysh --dryrun exit {p.ExitCode}\n{stdout}{stderr}");
            }
            output.WriteLine($"{files.Count} frr.conf files checked in {sw.ElapsedMilliseconds} ms");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
