using System.Text.Json;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Overlay.Daemon.Tests;

/// <summary>
/// The operator artifacts in examples/ checked against the daemon: the Prometheus rules parse and their unit tests pass
/// (promtool, from Debian's prometheus package via scripts/test-deps.sh), and every metric the rules and the Grafana
/// dashboard query is one a running overlayd exports (read from its /metrics, not from a list kept by hand).
/// </summary>
public sealed class OperationsArtifactsTests(ITestOutputHelper output)
{
    private static readonly string Root = FindRoot();
    internal static string RulesFile => Path.Combine(Root, "examples/prometheus/overlay-rules.yaml");
    private static string RulesTestFile => Path.Combine(Root, "examples/prometheus/overlay-rules.test.yaml");
    private static string DashboardFile => Path.Combine(Root, "examples/grafana/overlay.json");
    private static string OperationsDoc => Path.Combine(Root, "docs/operations.md");

    /// <summary>Series Prometheus itself adds for every target (not exported by overlayd).</summary>
    private static readonly string[] PrometheusSynthetic = ["up"];

    [SkippableFact]
    public void Rules_pass_promtool_check()
    {
        var (rc, text) = Promtool.Run(output, Path.GetDirectoryName(RulesFile)!, "check", "rules", Path.GetFileName(RulesFile));
        Assert.True(rc == 0, $"promtool check rules failed:\n{text}");
        Assert.Contains("SUCCESS", text);
    }

    [SkippableFact]
    public void Rule_unit_tests_pass_promtool_test()
    {
        var (rc, text) = Promtool.Run(output, Path.GetDirectoryName(RulesTestFile)!, "test", "rules", Path.GetFileName(RulesTestFile));
        Assert.True(rc == 0, $"promtool test rules failed:\n{text}");
    }

    [Fact]
    public void Every_alert_has_a_unit_test_firing_and_one_not_firing_and_a_runbook_section()
    {
        var alerts = RuleEntries().Where(r => r.Kind == "alert").ToList();
        Assert.NotEmpty(alerts);
        var tests = Yaml(RulesTestFile);
        var cases = ((YamlSequenceNode)tests["tests"]).Children.Cast<YamlMappingNode>()
            .Where(t => t.Children.ContainsKey("alert_rule_test"))
            .SelectMany(t => ((YamlSequenceNode)t["alert_rule_test"]).Children.Cast<YamlMappingNode>())
            .Select(c => (Alert: ((YamlScalarNode)c["alertname"]).Value!,
                          Fires: c.Children.TryGetValue("exp_alerts", out var e) && e is YamlSequenceNode { Children.Count: > 0 }))
            .ToList();
        var anchors = Regex.Matches(File.ReadAllText(OperationsDoc), @"^#{2,4} +(.+?) *$", RegexOptions.Multiline)
            .Select(m => GitHubAnchor(m.Groups[1].Value)).ToHashSet();
        var problems = new List<string>();
        foreach (var (name, rule) in alerts.Select(a => (a.Name, a.Node)))
        {
            if (!cases.Any(c => c.Alert == name && c.Fires)) problems.Add($"{name}: no test where it fires");
            if (!cases.Any(c => c.Alert == name && !c.Fires)) problems.Add($"{name}: no test where it stays quiet");
            var runbook = rule["annotations"] is YamlMappingNode a && a.Children.TryGetValue("runbook", out var r) ? ((YamlScalarNode)r).Value : null;
            if (runbook is null || !runbook.StartsWith("docs/operations.md#", StringComparison.Ordinal)) problems.Add($"{name}: no runbook annotation into docs/operations.md");
            else if (!anchors.Contains(runbook["docs/operations.md#".Length..])) problems.Add($"{name}: docs/operations.md has no section '{runbook}'");
        }
        foreach (var unknown in cases.Select(c => c.Alert).Distinct().Except(alerts.Select(a => a.Name)))
            problems.Add($"test for an alert that does not exist: {unknown}");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Rules_and_dashboard_query_only_metrics_a_running_overlayd_exports()
    {
        var exported = await ScrapedNamesAsync();
        var recorded = RuleEntries().Where(r => r.Kind == "record").Select(r => r.Name).ToHashSet();
        var known = exported.Concat(recorded).Concat(PrometheusSynthetic).ToHashSet(StringComparer.Ordinal);

        var problems = new List<string>();
        var rules = RuleEntries().ToList();
        foreach (var r in rules)
            foreach (var n in PromQlNames.MetricNames(r.Expr).Where(n => !known.Contains(n)))
                problems.Add($"{Rel(RulesFile)}: {r.Kind} {r.Name} uses '{n}', which overlayd does not export");
        var queries = DashboardQueries().ToList();
        Assert.True(queries.Count >= 10, $"only {queries.Count} dashboard queries found");
        foreach (var (panel, expr) in queries)
            foreach (var n in PromQlNames.MetricNames(expr).Where(n => !known.Contains(n)))
                problems.Add($"{Rel(DashboardFile)}: panel '{panel}' uses '{n}', which overlayd does not export");
        var used = rules.SelectMany(r => PromQlNames.MetricNames(r.Expr)).Concat(queries.SelectMany(q => PromQlNames.MetricNames(q.Expr))).ToHashSet();
        output.WriteLine($"overlayd exports {exported.Count} names; rules and dashboard use {used.Count}: {string.Join(", ", used.Order())}");
        output.WriteLine("exported but unused: " + string.Join(", ", exported.Except(used).Order()));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [SkippableFact]
    public void Dashboard_queries_are_valid_promql()
    {
        // promtool has no "parse this expression" command; a rules file with one recording rule per query is parsed
        // by `check rules` with Prometheus's own parser.
        Promtool.Find();
        var dir = Directory.CreateTempSubdirectory("ovl-dash-").FullName;
        try
        {
            var lines = new List<string> { "groups:", "  - name: dashboard", "    rules:" };
            int i = 0;
            foreach (var (_, expr) in DashboardQueries())
                lines.Add($"      - record: dashboard_query_{i++}\n        expr: {JsonSerializer.Serialize(PromQlNames.WithoutGrafanaVariables(expr))}");
            File.WriteAllLines(Path.Combine(dir, "q.yaml"), lines);
            var (rc, text) = Promtool.Run(output, dir, "check", "rules", "q.yaml");
            Assert.True(rc == 0, $"a dashboard query is not valid PromQL:\n{text}\n{string.Join("\n", lines)}");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Dashboard_is_per_node_and_every_panel_uses_the_datasource_variable()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(DashboardFile));
        var root = doc.RootElement;
        var vars = root.GetProperty("templating").GetProperty("list").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        Assert.Equal("datasource", vars["datasource"].GetProperty("type").GetString());
        Assert.Contains("overlay_node_info", vars["node"].GetProperty("definition").GetString());
        var ids = new HashSet<int>();
        foreach (var p in root.GetProperty("panels").EnumerateArray())
        {
            Assert.True(ids.Add(p.GetProperty("id").GetInt32()), "duplicate panel id " + p.GetProperty("id"));
            if (p.GetProperty("type").GetString() == "row") continue;
            string title = p.GetProperty("title").GetString()!;
            Assert.Equal("${datasource}", p.GetProperty("datasource").GetProperty("uid").GetString());
            foreach (var t in p.GetProperty("targets").EnumerateArray())
            {
                string expr = t.GetProperty("expr").GetString()!;
                // Every query is scoped to the chosen node, except the anycast group view, which spans members.
                if (!title.StartsWith("Anycast group", StringComparison.Ordinal))
                    Assert.True(expr.Contains("instance=~\"$instance\""), $"panel '{title}' is not filtered by node: {expr}");
            }
        }
    }

    [Fact]
    public void Name_extraction_finds_metrics_and_nothing_else()
    {
        Assert.Equal(["overlay_apply_duration_seconds_bucket"], PromQlNames.MetricNames(
            "histogram_quantile(0.99, sum by (le, operation) (rate(overlay_apply_duration_seconds_bucket{job=\"overlayd\",instance=~\"$instance\"}[$__rate_interval])))"));
        Assert.Equal(["overlay_vip_advertised", "overlay_vip_info"], PromQlNames.MetricNames(
            "sum by (vip, prefix) (overlay_vip_advertised * on (job, instance, vip) group_left (prefix) overlay_vip_info) == bool 0 offset 5m"));
        Assert.Equal(["up", "made_up_total"], PromQlNames.MetricNames(
            "absent(up{job=\"overlayd\"}) or label_replace(made_up_total, \"a\", \"$1\", \"b\", \"(.*)\") > 4 * 3600 unless vector(0)"));
        Assert.Equal(["vip_prefix:overlay_vip_advertised:sum"], PromQlNames.MetricNames("sum(vip_prefix:overlay_vip_advertised:sum) without (vip)"));
        Assert.Equal(["a_total", "b"], PromQlNames.MetricNames("count by (x) (a_total) / max without (y) (b)"));
    }

    // ---- helpers

    private async Task<HashSet<string>> ScrapedNamesAsync()
    {
        await using var d = new DaemonFixture(output);
        d.Healthy();
        await d.StartAsync();
        var text = await d.Metrics.GetStringAsync("/metrics");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(text, @"^# TYPE (\S+) (\S+)$", RegexOptions.Multiline))
        {
            string name = m.Groups[1].Value;
            names.Add(name);
            if (m.Groups[2].Value is "histogram") names.UnionWith([name + "_bucket", name + "_sum", name + "_count"]);
            if (m.Groups[2].Value is "summary") names.UnionWith([name + "_sum", name + "_count"]);
        }
        Assert.True(names.Count >= 10, "the scrape declared almost no metric families:\n" + text);
        return names;
    }

    private sealed record RuleEntry(string Kind, string Name, string Expr, YamlMappingNode Node);

    private static IEnumerable<RuleEntry> RuleEntries()
    {
        foreach (var g in ((YamlSequenceNode)Yaml(RulesFile)["groups"]).Children.Cast<YamlMappingNode>())
            foreach (var r in ((YamlSequenceNode)g["rules"]).Children.Cast<YamlMappingNode>())
            {
                string kind = r.Children.ContainsKey("alert") ? "alert" : "record";
                yield return new(kind, ((YamlScalarNode)r[kind]).Value!, ((YamlScalarNode)r["expr"]).Value!, r);
            }
    }

    private static IEnumerable<(string Panel, string Expr)> DashboardQueries()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(DashboardFile));
        var list = new List<(string, string)>();
        void Walk(JsonElement panels)
        {
            foreach (var p in panels.EnumerateArray())
            {
                if (p.TryGetProperty("targets", out var targets))
                    foreach (var t in targets.EnumerateArray())
                        if (t.TryGetProperty("expr", out var e)) list.Add((p.GetProperty("title").GetString()!, e.GetString()!));
                if (p.TryGetProperty("panels", out var nested)) Walk(nested); // panels inside collapsed rows
            }
        }
        Walk(doc.RootElement.GetProperty("panels"));
        foreach (var v in doc.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
            if (v.GetProperty("type").GetString() == "query")
            {
                // label_values(SELECTOR, label): the selector is the query.
                var m = Regex.Match(v.GetProperty("definition").GetString()!, @"^label_values\((.*),\s*\w+\)$");
                Assert.True(m.Success, "variable query is not label_values(selector, label): " + v);
                list.Add(("variable " + v.GetProperty("name").GetString(), m.Groups[1].Value));
            }
        return list;
    }

    private static YamlMappingNode Yaml(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    /// <summary>GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens.</summary>
    private static string GitHubAnchor(string heading) =>
        Regex.Replace(Regex.Replace(heading.Trim().ToLowerInvariant(), @"[^\p{L}\p{Nd} _-]", ""), " ", "-");

    private static string Rel(string path) => Path.GetRelativePath(Root, path);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Overlay.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find Overlay.sln above " + AppContext.BaseDirectory);
    }
}
