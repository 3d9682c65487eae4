namespace Overlay.Core.Model;

/// <summary>An OSPF neighbor's state (RFC 2328 §10.1) as ospfd reports it; <see cref="Unknown"/> when its text is not one of them.</summary>
public enum OspfNeighborState
{
    Unknown,
    Down,
    Attempt,
    Init,
    TwoWay,
    ExStart,
    Exchange,
    Loading,
    Full,
}
