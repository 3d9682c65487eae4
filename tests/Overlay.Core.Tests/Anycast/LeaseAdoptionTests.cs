using Microsoft.Extensions.Time.Testing;
using Overlay.Core.Anycast;
using Overlay.Core.Config;
using Overlay.Core.Net;

namespace Overlay.Core.Tests.Anycast;

/// <summary>What a new overlayd does with leases handed over by the previous process (issue #12).</summary>
public class LeaseAdoptionTests
{
    private static readonly HealthPolicy Policy = HealthPolicy.Default("p") with { Rise = 3, Fall = 2 }; // hold-down advertise 5 s

    private static VipConfig Vip(string name, string prefix, string lease) => new(name, IpPrefix.Parse(prefix), "p", lease, ["wg0"]);

    [Fact]
    public void Handed_over_lease_with_its_route_in_FRR_is_adopted_as_advertised_and_unused_leases_are_released()
    {
        var vips = new[] { Vip("web", "203.0.113.10/32", "ovl-web"), Vip("dns", "203.0.113.53/32", "ovl-dns"), Vip("new", "203.0.113.7/32", "ovl-new") };
        var plan = LeaseAdoption.Plan(vips, ["ovl-web", "ovl-dns", "ovl-gone"],
            [(IpPrefix.Parse("203.0.113.10/32"), "ovl-web"), (IpPrefix.Parse("203.0.113.99/32"), "ovl-gone")]);

        Assert.Equal(AdoptionAction.AdoptAdvertised, plan.Vips["web"]);
        Assert.Equal(AdoptionAction.AdoptWithdrawn, plan.Vips["dns"]); // previous process had withdrawn it
        Assert.Equal(AdoptionAction.Fresh, plan.Vips["new"]);
        Assert.Equal(["ovl-gone"], plan.Release);
    }

    [Fact]
    public void A_route_through_another_interface_or_an_unreadable_FRR_is_not_adopted_as_advertised()
    {
        var vips = new[] { Vip("web", "203.0.113.10/32", "ovl-web") };
        Assert.Equal(AdoptionAction.AdoptWithdrawn, LeaseAdoption.Plan(vips, ["ovl-web"], [(IpPrefix.Parse("203.0.113.10/32"), "ovl-old")]).Vips["web"]);
        Assert.Equal(AdoptionAction.AdoptWithdrawn, LeaseAdoption.Plan(vips, ["ovl-web"], null).Vips["web"]);
        Assert.Empty(LeaseAdoption.Plan(vips, ["ovl-web"], null).Release);
    }

    [Fact]
    public void Adopted_VIP_starts_advertised_and_is_evaluated_at_once()
    {
        var clock = new FakeTimeProvider();
        var c = new VipController("web", Policy, clock);
        var d = c.Adopt("handed over", drained: false);
        Assert.Equal(VipState.Advertised, d.State);
        Assert.True(d.Advertise);
        Assert.Equal(clock.GetUtcNow(), d.NextEvaluation);

        clock.Advance(TimeSpan.FromMilliseconds(10));
        var e = c.Evaluate(true, "ok");
        Assert.Equal(VipState.Advertised, e.State);
        Assert.Empty(e.Transitions); // healthy: nothing changes, nothing is written
    }

    [Fact]
    public void VIP_adopted_while_unhealthy_is_withdrawn_after_fall_without_waiting_for_the_advertise_hold_down()
    {
        var clock = new FakeTimeProvider();
        var c = new VipController("web", Policy, clock);
        c.Adopt("handed over", drained: false);

        var first = c.Evaluate(false, "handshake too old");
        Assert.Equal(VipState.PendingWithdraw, first.State); // 1/2: still advertised
        Assert.True(first.Advertise);

        clock.Advance(Policy.FastInterval);
        var second = c.Evaluate(false, "handshake too old");
        Assert.Equal(VipState.Withdrawn, second.State); // fall 2 reached; the 5 s hold-down does not apply to an adoption
        Assert.False(second.Advertise);
    }

    [Fact]
    public void Drained_node_does_not_adopt_an_advertisement()
    {
        var c = new VipController("web", Policy, new FakeTimeProvider());
        var d = c.Adopt("handed over", drained: true);
        Assert.Equal(VipState.Drained, d.State);
        Assert.False(d.Advertise);
    }
}
