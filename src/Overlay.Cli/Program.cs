using System.CommandLine;
using Overlay.Cli.Commands;

// One line per noun; each command lives in Commands/<Noun>Command.cs.
var root = new RootCommand("overlayctl: render, check and operate a WireGuard + FRR overlay")
{
    RenderCommand.Create(),
    LintCommand.Create(),
    RotateCommand.Create(),
    StatusCommand.Create(),
    PeersCommand.Create(),
    VipsCommand.Create(),
    EventsCommand.Create(),
    ExplainCommand.Create(),
    DrainCommand.Create(enter: true),
    DrainCommand.Create(enter: false),
};
return root.Parse(args).Invoke();
