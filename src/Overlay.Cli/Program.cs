using System.CommandLine;
using Overlay.Cli.Commands;

// One line per noun; each command lives in Commands/<Noun>Command.cs.
var root = new RootCommand("overlayctl: render, check and operate a WireGuard + FRR overlay")
{
    RenderCommand.Create(),
    LintCommand.Create(),
    RotateCommand.Create(),
    PlanCommand.Create(),
    ApplyCommand.Create(),
    OwnersCommand.Create(),
    StatusCommand.Create(),
    PeersCommand.Create(),
    VipsCommand.Create(),
    EventsCommand.Create(),
    ExplainCommand.Create(),
    DrainCommand.Create(enter: true),
    DrainCommand.Create(enter: false),
    RestartCommand.Create(),
};
var parse = root.Parse(args);
// Usage errors are exit 2 for every noun (docs/cli.md), not System.CommandLine's default 1, which means "unhealthy"/"drift".
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors) Console.Error.WriteLine("overlayctl: " + error.Message);
    Console.Error.WriteLine("see 'overlayctl --help' or 'overlayctl NOUN --help'");
    return 2;
}
return parse.Invoke();
