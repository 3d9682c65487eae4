using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Overlay.Core.Events;
using Overlay.Core.Explain;
using Overlay.Core.Net;

namespace Overlay.Core.Api;

/// <summary>
/// The one serializer of the control API, generated at build time (no reflection, so overlayd and overlayctl can be
/// NativeAOT): camelCase names, every property written (null when unknown), enums by name, addresses, prefixes and
/// keys as their usual text forms. Every type the API sends or receives is listed here.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UseStringEnumConverter = true,
    Converters = [typeof(IPAddressConverter), typeof(IpPrefixConverter), typeof(WireGuardKeyConverter)])]
[JsonSerializable(typeof(ApiError))]
[JsonSerializable(typeof(DrainRequest))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(PeersResponse))]
[JsonSerializable(typeof(VipsResponse))]
[JsonSerializable(typeof(EventsResponse))]
[JsonSerializable(typeof(OverlayEvent))]
[JsonSerializable(typeof(ExplainResult))]
[JsonSerializable(typeof(HandoffResult))]
public sealed partial class ControlApiJson : JsonSerializerContext;

/// <summary>Addresses, prefixes and keys travel as their usual text forms.</summary>
internal sealed class IPAddressConverter : JsonConverter<IPAddress>
{
    public override IPAddress Read(ref Utf8JsonReader reader, Type t, JsonSerializerOptions o) => IPAddress.Parse(reader.GetString()!);
    public override void Write(Utf8JsonWriter writer, IPAddress value, JsonSerializerOptions o) => writer.WriteStringValue(value.ToString());
}

internal sealed class IpPrefixConverter : JsonConverter<IpPrefix>
{
    public override IpPrefix Read(ref Utf8JsonReader reader, Type t, JsonSerializerOptions o) => IpPrefix.Parse(reader.GetString()!);
    public override void Write(Utf8JsonWriter writer, IpPrefix value, JsonSerializerOptions o) => writer.WriteStringValue(value.ToString());
}

internal sealed class WireGuardKeyConverter : JsonConverter<WireGuardKey>
{
    public override WireGuardKey Read(ref Utf8JsonReader reader, Type t, JsonSerializerOptions o) => WireGuardKey.Parse(reader.GetString()!);
    public override void Write(Utf8JsonWriter writer, WireGuardKey value, JsonSerializerOptions o) => writer.WriteStringValue(value.ToBase64());
}
