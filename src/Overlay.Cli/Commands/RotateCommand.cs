using System.CommandLine;
using Overlay.Cli.Output;
using Overlay.Core.Inventories;
using Overlay.Core.Net;
using Overlay.Core.Rotation;

namespace Overlay.Cli.Commands;

/// <summary>
/// overlayctl rotate plan INVENTORY NODE [--new-public-key KEY] [--output text|json]: prints the
/// make-before-break key rotation for NODE and, for comparison, the in-place sequence and its loss window.
/// Exit codes: 0 plan printed, 2 inventory errors or no plan possible.
/// </summary>
internal static class RotateCommand
{
    public const int Ok = 0;
    public const int Failed = 2;

    public static Command Create()
    {
        var inventory = new Argument<string>("inventory") { Description = "Inventory YAML file" };
        var node = new Argument<string>("node") { Description = "The node whose WireGuard key is rotated" };
        var newKey = new Option<string?>("--new-public-key") { Description = "The new public key ('wg pubkey' of the new key file); a placeholder without it" };
        var output = new Option<string>("--output") { Description = "text or json", DefaultValueFactory = _ => "text" };
        output.AcceptOnlyFromAmong("text", "json");

        var plan = new Command("plan", "Print the make-before-break key rotation plan for a node (and the in-place plan for comparison)")
        {
            inventory, node, newKey, output,
        };
        plan.SetAction(parse => Plan(parse.GetRequiredValue(inventory), parse.GetRequiredValue(node), parse.GetValue(newKey),
            parse.GetValue(output) == "json", Console.Out, Console.Error));
        return new Command("rotate", "WireGuard key rotation") { plan, RotateApplyCommand.Create() };
    }

    internal static int Plan(string inventoryPath, string nodeName, string? newKey, bool json, TextWriter stdout, TextWriter stderr)
    {
        var parsed = InventoryParser.Load(new DiskFiles(), inventoryPath);
        foreach (var d in parsed.Diagnostics) stderr.WriteLine(d.ToString());
        if (parsed.Inventory is not { } inv) return Failed;

        var options = new RotationOptions();
        if (newKey is not null)
        {
            if (!WireGuardKey.TryParse(newKey, out var key, out var error))
            {
                stderr.WriteLine($"--new-public-key: error: {error}");
                return Failed;
            }
            if (key.IsLowOrder)
            {
                stderr.WriteLine($"--new-public-key: error: the key is {WireGuardKey.LowOrderMessage}");
                return Failed;
            }
            options = options with { NewPublicKey = key };
        }
        try
        {
            var plans = RotationPlanner.Plan(inv, nodeName, options);
            stdout.Write(json ? CliJson.Serialize(plans, CliJson.Indented) + "\n" : RotationPlanText.Format(plans));
            return Ok;
        }
        catch (RotationPlanException e)
        {
            stderr.WriteLine($"{inventoryPath}: error: {e.Message}");
            return Failed;
        }
    }
}
