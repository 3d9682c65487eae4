if (args.Length > 0 && args[0] == "netlink-routes")
    return await Overlay.Benchmarks.NetlinkRouteProgramming.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "render-1000")
    return Overlay.Benchmarks.RenderTiming.Run(args[1..]);

if (args.Length > 0 && args[0] == "frr-latency")
    return OperatingSystem.IsLinux() ? await Overlay.Benchmarks.FrrClientLatency.RunAsync(args[1..]) : 2;
if (args.Length > 0 && args[0] == "frr-latency-worker")
    return OperatingSystem.IsLinux() ? await Overlay.Benchmarks.FrrClientLatency.WorkerAsync(args[1..]) : 2;
if (args.Length > 0 && args[0] == "cli-explain")
    return await Overlay.Benchmarks.CliExplainLatency.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "lab-anycast")
    return await Overlay.Benchmarks.LabAnycastTimings.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "lab-anycast-client")
    return await Overlay.Benchmarks.LabAnycastClientTimings.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "lab-handoff")
    return await Overlay.Benchmarks.LabHandoffTimings.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "lab-hub")
    return await Overlay.Benchmarks.LabHubFailover.RunAsync(args[1..]);
if (args.Length > 0 && args[0] == "lab-idle")
    return await Overlay.Benchmarks.LabIdleFootprint.RunAsync(args[1..]);
BenchmarkDotNet.Running.BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
