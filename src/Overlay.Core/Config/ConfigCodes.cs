namespace Overlay.Core.Config;

/// <summary>Diagnostic codes of the overlayd.yaml reader (docs/overlayd-config.md lists them), beside the inventory's INV codes.</summary>
public static class ConfigCodes
{
    public const string Syntax = "CFG001";
    public const string UnknownKey = "CFG002";
    public const string WrongType = "CFG003";
    public const string MissingField = "CFG004";
    public const string InvalidValue = "CFG005";
    public const string InvalidPrefix = "CFG006";
    public const string InvalidAddress = "CFG007";
    public const string OutOfRange = "CFG008";
    public const string InvalidName = "CFG009";
    public const string InvalidPath = "CFG010";
    public const string DuplicateValue = "CFG011";
    public const string UnknownReference = "CFG012";
    public const string Conflict = "CFG013";
    public const string Unsafe = "CFG014";
    public const string Unreadable = "CFG015";
}
