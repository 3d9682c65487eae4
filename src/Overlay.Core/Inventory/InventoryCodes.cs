namespace Overlay.Core.Inventories;

/// <summary>Diagnostic codes of the inventory parser (docs/inventory.md lists them with examples).</summary>
public static class InventoryCodes
{
    public const string Syntax = "INV001";
    public const string UnknownKey = "INV002";
    public const string WrongType = "INV003";
    public const string MissingField = "INV004";
    public const string InvalidValue = "INV005";
    public const string InvalidPrefix = "INV006";
    public const string HostBitsSet = "INV007";
    public const string InvalidKey = "INV008";
    public const string InvalidDuration = "INV009";
    public const string DuplicateName = "INV010";
    public const string UnknownNode = "INV011";
    public const string UnknownPolicy = "INV012";
    public const string VipNotHost = "INV013";
    public const string DuplicateKey = "INV014";
    public const string ShortcutSelf = "INV015";
    public const string ShortcutCycle = "INV016";
    public const string InvalidEndpoint = "INV017";
    public const string Conflict = "INV018";
    public const string Unreachable = "INV019";
    public const string OutOfRange = "INV020";
    public const string InvalidName = "INV021";
    public const string DuplicateValue = "INV022";
    public const string PoolExhausted = "INV023";
    public const string TopologyInvalid = "INV024";
    public const string TimerInvalid = "INV025";
    public const string FileNotFound = "INV026";
    public const string InvalidAddress = "INV027";
    public const string PolicyUnsatisfiable = "INV028";
    public const string NotUtf8 = "INV029";
    public const string LimitExceeded = "INV030";
}
