using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Overlay.Cli.Commands;
using Overlay.Core.Fleet;
using Overlay.Core.Rotation;
using Overlay.Core.Rotation.Execution;
using Overlay.Remote.Fleet;

namespace Overlay.Cli.Output;

/// <summary>
/// The JSON overlayctl prints itself (plan, apply, owners, rotate): camelCase names, enums as camelCase strings, text
/// for terminals and jq (never embedded in HTML, so no escaping of '+' or '&lt;'). Metadata comes from
/// <see cref="CliJsonContext"/> (generated at build time), so the NativeAOT build serializes without reflection.
/// </summary>
internal static class CliJson
{
    /// <summary>Documents: plan, owners, rotate plan.</summary>
    public static JsonSerializerOptions Indented { get; } = Create(indented: true);

    /// <summary>One object per line: apply and rotate apply progress.</summary>
    public static JsonSerializerOptions Line { get; } = Create(indented: false);

    public static string Serialize<T>(T value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(value, (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T)));

    private static JsonSerializerOptions Create(bool indented)
    {
        var o = new JsonSerializerOptions
        {
            WriteIndented = indented,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            TypeInfoResolver = CliJsonContext.Default,
        };
        // The generic converter is the AOT-safe one: one per enum the output contains (a missing one would print a number).
        o.Converters.Add(new JsonStringEnumConverter<PlanChangeKind>(JsonNamingPolicy.CamelCase));
        o.Converters.Add(new JsonStringEnumConverter<KeyStatus>(JsonNamingPolicy.CamelCase));
        o.Converters.Add(new JsonStringEnumConverter<FrrChangeKind>(JsonNamingPolicy.CamelCase));
        o.Converters.Add(new JsonStringEnumConverter<OwnedKind>(JsonNamingPolicy.CamelCase));
        o.Converters.Add(new JsonStringEnumConverter<OwnerFindingKind>(JsonNamingPolicy.CamelCase));
        o.Converters.Add(new JsonStringEnumConverter<FleetApplyOutcome>(JsonNamingPolicy.CamelCase));
        o.Converters.Add(new JsonStringEnumConverter<RotationStrategy>(JsonNamingPolicy.CamelCase));
        o.Converters.Add(new JsonStringEnumConverter<RotationChangeKind>(JsonNamingPolicy.CamelCase));
        o.Converters.Add(new JsonStringEnumConverter<VerificationKind>(JsonNamingPolicy.CamelCase));
        o.Converters.Add(new JsonStringEnumConverter<RotationEventKind>(JsonNamingPolicy.CamelCase));
        o.Converters.Add(new JsonStringEnumConverter<RotationOutcome>(JsonNamingPolicy.CamelCase));
        o.MakeReadOnly();
        return o;
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(PlanCommand.PlanJson))]
[JsonSerializable(typeof(OwnersCommand.OwnersJson))]
[JsonSerializable(typeof(ApplyCommand.RefusedLine), TypeInfoPropertyName = "ApplyRefusedLine")]
[JsonSerializable(typeof(ApplyCommand.NothingToDoLine), TypeInfoPropertyName = "ApplyNothingToDoLine")]
[JsonSerializable(typeof(ApplyCommand.StepLine), TypeInfoPropertyName = "ApplyStepLine")]
[JsonSerializable(typeof(ApplyCommand.ResultLine), TypeInfoPropertyName = "ApplyResultLine")]
[JsonSerializable(typeof(RotateApplyCommand.PreflightLine), TypeInfoPropertyName = "RotatePreflightLine")]
[JsonSerializable(typeof(RotateApplyCommand.RotateRefusedLine), TypeInfoPropertyName = "RotateRefusedLine")]
[JsonSerializable(typeof(RotateApplyCommand.PhaseLine), TypeInfoPropertyName = "RotatePhaseLine")]
[JsonSerializable(typeof(RotateApplyCommand.DryRunLine), TypeInfoPropertyName = "RotateDryRunLine")]
[JsonSerializable(typeof(RotateApplyCommand.EventLine), TypeInfoPropertyName = "RotateEventLine")]
[JsonSerializable(typeof(RotateApplyCommand.RotateResultLine), TypeInfoPropertyName = "RotateResultLine")]
[JsonSerializable(typeof(RotationPlans))]
// The enums reachable from the lines above.
[JsonSerializable(typeof(PlanChangeKind))]
[JsonSerializable(typeof(RotationChangeKind))]
internal sealed partial class CliJsonContext : JsonSerializerContext;
