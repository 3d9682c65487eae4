namespace Overlay.Frr.Northbound;

/// <summary>Which data a Get returns (wire values of frr.GetRequest.DataType).</summary>
public enum NorthboundDataType
{
    All = 0,
    Config = 1,
    State = 2,
}

/// <summary>Commit phases (wire values of frr.CommitRequest.Phase).</summary>
public enum CommitPhase
{
    Validate = 0,
    Prepare = 1,
    Abort = 2,
    Apply = 3,
    All = 4,
}

public enum YangEditOperation
{
    /// <summary>Create or modify the node (and its missing ancestors); list entries need no value.</summary>
    Update,

    /// <summary>Remove the node and everything below it.</summary>
    Delete,
}

/// <summary>One change of a candidate configuration: a YANG data path and, for leaves, its value.</summary>
public sealed record YangEdit(YangEditOperation Operation, string Path, string Value)
{
    public static YangEdit Update(string path, string value = "") => new(YangEditOperation.Update, path, value);

    public static YangEdit Delete(string path) => new(YangEditOperation.Delete, path, string.Empty);

    public override string ToString() =>
        Operation == YangEditOperation.Delete ? $"delete {Path}" : Value.Length == 0 ? $"update {Path}" : $"update {Path} = {Value}";
}

/// <summary>One message of a Get stream: a JSON data tree (FRR answers one per requested path).</summary>
/// <param name="Timestamp">When the daemon produced it (FRR sends whole seconds).</param>
public sealed record NorthboundData(DateTimeOffset Timestamp, string Json);

/// <summary>Outcome of <see cref="INorthboundClient.ApplyAsync"/>.</summary>
public sealed record ApplyResult
{
    private ApplyResult(bool changed, uint transactionId)
    {
        Changed = changed;
        TransactionId = transactionId;
    }

    /// <summary>The commit changed the running configuration.</summary>
    public bool Changed { get; }

    /// <summary>
    /// FRR's transaction id when <see cref="Changed"/>; 0 otherwise, and also 0 from daemons that keep
    /// no transaction log (rollback_support false, as in Debian's 8.4.4).
    /// </summary>
    public uint TransactionId { get; }

    /// <summary>The running configuration already matched (FRR answered ABORTED "no changes").</summary>
    public static ApplyResult NoChange { get; } = new(false, 0);

    public static ApplyResult Applied(uint transactionId) => new(true, transactionId);

    public override string ToString() => Changed ? $"applied (transaction {TransactionId})" : "no change";
}
