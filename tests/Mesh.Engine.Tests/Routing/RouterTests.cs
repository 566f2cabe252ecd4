using Mesh.Testing;
using Mesh.Routing;

namespace Mesh.Engine.Tests.Routing;

public sealed class RouterTests
{
    private const string Orders = """
        {
          "services": {
            "orders": {
              "endpoints": [
                { "id": "v1", "address": "http://127.0.0.1:5001", "tags": { "version": "v1" } },
                { "id": "v2", "address": "http://127.0.0.1:5002", "tags": { "version": "v2" } },
                { "id": "gray", "address": "http://127.0.0.1:5003", "tags": { "version": "v2", "lane": "gray" } }
              ],
              "policy": {
                "routes": [
                  { "name": "beta", "match": { "headers": { "x-user": { "prefix": "beta-" } } },
                    "destinations": [ { "subset": { "version": "v2" } } ] },
                  { "name": "admin", "match": { "method": { "in": ["POST", "DELETE"] }, "path": { "prefix": "/admin" } },
                    "destinations": [ { "subset": { "version": "v1" } } ] },
                  { "name": "gold", "match": { "query": { "tier": { "exact": "gold" } } },
                    "destinations": [ { "subset": { "version": "v2" } } ] },
                  { "name": "cookie", "match": { "cookies": { "group": { "exact": "b" } } },
                    "destinations": [ { "subset": { "version": "v2" } } ] },
                  { "name": "canary", "match": { "path": { "prefix": "/canary" } },
                    "destinations": [ { "subset": { "version": "v1" }, "weight": 90 }, { "subset": { "version": "v2" }, "weight": 10 } ] }
                ]
              }
            }
          }
        }
        """;

    [Fact]
    public void Route_UnknownHost_IsNotMeshed()
        => Assert.Equal(RouteStatus.NotMeshed, Snapshots.Compile(Orders).Route("example", new TestRequest()).Status);

    [Fact]
    public void Route_HostCaseDiffers_FindsService()
        => Assert.Equal(RouteStatus.Routed, Snapshots.Compile(Orders).Route("ORDERS", new TestRequest()).Status);

    [Fact]
    public void Route_MeshDisabled_IsNotMeshed()
    {
        var snapshot = Snapshots.Compile(Orders.Replace("\"services\"", "\"mesh\": { \"enabled\": false }, \"services\"", StringComparison.Ordinal));
        Assert.Equal(RouteStatus.NotMeshed, snapshot.Route("orders", new TestRequest()).Status);
    }

    [Fact]
    public void Route_NoRouteMatches_UsesBaseLaneEndpointsOnly()
    {
        var counts = Snapshots.Compile(Orders).Distribution("orders", 200);
        Assert.Equal(["v1", "v2"], counts.Keys.Order());
    }

    [Fact]
    public void Route_HeaderPrefixMatches_GoesToSubset()
    {
        var decision = Snapshots.Compile(Orders).Route("orders", TestRequest.WithHeader("x-user", "beta-7"));
        Assert.Equal("beta", decision.Route!.Name);
        Assert.Equal("v2", decision.Endpoint!.Id);
    }

    [Fact]
    public void Route_MethodAndPathMatch_GoesToSubset()
    {
        var snapshot = Snapshots.Compile(Orders);
        Assert.Equal("admin", snapshot.Route("orders", new TestRequest("POST", "/admin/users")).Route!.Name);
        Assert.Equal("default", snapshot.Route("orders", new TestRequest("GET", "/admin/users")).Route!.Name);
    }

    [Fact]
    public void Route_QueryMatch_GoesToSubset()
        => Assert.Equal("gold", Snapshots.Compile(Orders).Route("orders", new TestRequest("GET", query: "?a=1&tier=gold")).Route!.Name);

    [Fact]
    public void Route_CookieMatch_GoesToSubset()
        => Assert.Equal("cookie", Snapshots.Compile(Orders).Route("orders", new TestRequest("GET", cookie: "x=1; group=b")).Route!.Name);

    [Fact]
    public void Route_WeightedDestinations_SplitWithinTolerance()
    {
        var counts = Snapshots.Compile(Orders).Distribution("orders", 10_000, _ => new TestRequest("GET", path: "/canary/x"));
        Assert.InRange(counts["v1"], 8_700, 9_300);
        Assert.InRange(counts["v2"], 700, 1_300);
    }

    [Fact]
    public void Route_LaneWithEndpoints_GoesToLane()
    {
        var decision = Snapshots.Compile(Orders).Route("orders", new TestRequest(), lane: "gray");
        Assert.Equal("gray", decision.Endpoint!.Id);
        Assert.Equal("gray", decision.Lane);
    }

    [Fact]
    public void Route_LaneServedByOneWeightedDestination_OutranksTheSplit()
    {
        // The canary split sends 90% to v1, but only the v2 destination has a gray endpoint: gray requests go there.
        var counts = Snapshots.Compile(Orders).Distribution("orders", 200, _ => new TestRequest("GET", path: "/canary"), lane: "gray");
        Assert.Equal(["gray"], counts.Keys);
    }

    [Fact]
    public void Route_LaneInsideRouteSubset_GoesToLaneOfSubset()
        => Assert.Equal("gray", Snapshots.Compile(Orders).Route("orders", TestRequest.WithHeader("x-user", "beta-1"), lane: "gray").Endpoint!.Id);

    [Fact]
    public void Route_LaneOutsideRouteSubset_FallsBackToBaseOfSubset()
    {
        // The admin route sends to v1, which has no gray instance: base fallback keeps the request on v1.
        var decision = Snapshots.Compile(Orders).Route("orders", new TestRequest("POST", "/admin"), lane: "gray");
        Assert.Equal("v1", decision.Endpoint!.Id);
    }

    [Fact]
    public void Route_UnknownLaneWithBaseFallback_GoesToBase()
    {
        var counts = Snapshots.Compile(Orders).Distribution("orders", 100, lane: "blue");
        Assert.DoesNotContain("gray", counts.Keys);
    }

    [Fact]
    public void Route_UnknownLaneWithRejectFallback_IsRejectedWithReason()
    {
        var snapshot = Snapshots.Compile(Orders.Replace("\"routes\"", "\"lane\": { \"fallback\": \"reject\" }, \"routes\"", StringComparison.Ordinal));
        var decision = snapshot.Route("orders", new TestRequest(), lane: "blue");
        Assert.Equal(RouteStatus.LaneRejected, decision.Status);
        Assert.Contains("lane 'blue'", decision.Reason);
        Assert.Equal("gray", snapshot.Route("orders", new TestRequest(), lane: "gray").Endpoint!.Id);
    }

    [Fact]
    public void Route_RouteMatchOnLane_Applies()
    {
        var snapshot = Snapshots.Compile("""
            { "services": { "s": {
                "endpoints": [ { "id": "a", "address": "http://127.0.0.1:1", "tags": { "v": "a" } }, { "id": "b", "address": "http://127.0.0.1:2", "tags": { "v": "b" } } ],
                "policy": { "routes": [ { "name": "l", "match": { "lane": { "exact": "x" } }, "destinations": [ { "subset": { "v": "b" } } ] } ] } } } }
            """);
        Assert.Equal("b", snapshot.Route("s", new TestRequest(), lane: "x").Endpoint!.Id);
        Assert.Equal("l", snapshot.Route("s", new TestRequest(), lane: "x").Route!.Name);
        Assert.Equal("default", snapshot.Route("s", new TestRequest()).Route!.Name);
    }

    [Fact]
    public void Route_SubsetWithoutEndpoints_IsNoEndpointWithReason()
    {
        var snapshot = Snapshots.Compile("""
            { "services": { "s": {
                "endpoints": [ { "id": "a", "address": "http://127.0.0.1:1" } ],
                "policy": { "routes": [ { "name": "r", "destinations": [ { "subset": { "version": "v9" } } ] } ] } } } }
            """);
        var decision = snapshot.Route("s", new TestRequest());
        Assert.Equal(RouteStatus.NoEndpoint, decision.Status);
        Assert.Contains("version=v9", decision.Reason);
    }

    [Fact]
    public void Route_ServiceWithoutEndpoints_IsNoEndpoint()
        => Assert.Equal(RouteStatus.NoEndpoint, Snapshots.Compile("""{ "services": { "s": { "endpoints": [] } } }""").Route("s", new TestRequest()).Status);

    [Fact]
    public void Route_ZeroWeightEndpoint_IsNeverPicked()
    {
        var snapshot = Snapshots.Compile("""
            { "services": { "s": { "endpoints": [
                { "id": "a", "address": "http://127.0.0.1:1", "weight": 0 }, { "id": "b", "address": "http://127.0.0.1:2" } ] } } }
            """);
        Assert.Equal(["b"], snapshot.Distribution("s", 100).Keys);
    }

    [Fact]
    public void Route_SplitDestinationEjected_FailsOverToOtherDestination()
    {
        var snapshot = Snapshots.Compile(Orders);
        var v2 = snapshot.Services["orders"].EndpointsById["v2"];
        v2.State.Eject(TimeProvider.System.GetTimestamp() + TimeProvider.System.TimestampFrequency * 60);

        // The canary split sends 10% to v2; with v2 ejected, all of it goes to v1 instead of the ejected v2.
        var counts = snapshot.Distribution("orders", 500, _ => new TestRequest("GET", path: "/canary"));
        Assert.Equal(["v1"], counts.Keys);
    }

    [Fact]
    public void Route_RetryAfterSplitDestination_AvoidsTriedEndpointAcrossDestinations()
    {
        var snapshot = Snapshots.Compile(Orders);
        var v1 = snapshot.Services["orders"].EndpointsById["v1"];
        for (var i = 0; i < 200; i++)
        {
            var request = new TestRequest("GET", path: "/canary");
            Assert.Equal("v2", snapshot.Route("orders", ref request, null, TimeProvider.System.GetTimestamp(), [v1]).Endpoint!.Id);
        }
    }

    [Fact]
    public void Route_LaneEndpointEjected_FallsBackToBase()
    {
        var snapshot = Snapshots.Compile(Orders);
        snapshot.Services["orders"].EndpointsById["gray"].State.Eject(TimeProvider.System.GetTimestamp() + TimeProvider.System.TimestampFrequency * 60);
        Assert.DoesNotContain("gray", snapshot.Distribution("orders", 100, lane: "gray").Keys);
    }
}
