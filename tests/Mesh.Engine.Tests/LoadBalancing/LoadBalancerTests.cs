using Mesh.Testing;
using Mesh.LoadBalancing;
using Mesh.Routing;
using Microsoft.Extensions.Time.Testing;

namespace Mesh.Engine.Tests.LoadBalancing;

public sealed class LoadBalancerTests
{
    private static string Service(string balancer, string endpoints, string extra = "")
        => $$"""{ "mesh": { "zone": "z1" }, "services": { "s": { "endpoints": [ {{endpoints}} ], "policy": { "loadBalancer": { "kind": "{{balancer}}" {{extra}} } } } } }""";

    private const string ThreeEqual = """
        { "id": "a", "address": "http://127.0.0.1:1" }, { "id": "b", "address": "http://127.0.0.1:2" }, { "id": "c", "address": "http://127.0.0.1:3" }
        """;

    private const string Weighted = """
        { "id": "a", "address": "http://127.0.0.1:1", "weight": 100 }, { "id": "b", "address": "http://127.0.0.1:2", "weight": 300 }
        """;

    [Fact]
    public void RoundRobin_EqualWeights_RotatesExactly()
    {
        var counts = Snapshots.Compile(Service("roundRobin", ThreeEqual)).Distribution("s", 300);
        Assert.All(counts.Values, c => Assert.Equal(100, c));
    }

    [Fact]
    public void RoundRobin_Weights_ExactProportionsAndInterleaved()
    {
        var snapshot = Snapshots.Compile(Service("roundRobin", Weighted));
        var counts = snapshot.Distribution("s", 400);
        Assert.Equal(100, counts["a"]);
        Assert.Equal(300, counts["b"]);

        // Smooth weighting never sends more than the weight ratio in a row to the heavier endpoint.
        var sequence = Enumerable.Range(0, 8).Select(_ => snapshot.Route("s", new TestRequest()).Endpoint!.Id).ToArray();
        Assert.DoesNotContain("bbbb", string.Concat(sequence), StringComparison.Ordinal);
    }

    [Fact]
    public void Random_IgnoresWeights_UniformWithinTolerance()
    {
        var counts = Snapshots.Compile(Service("random", Weighted)).Distribution("s", 10_000);
        Assert.InRange(counts["a"], 4_500, 5_500);
    }

    [Fact]
    public void WeightedRandom_ProportionalWithinTolerance()
    {
        var counts = Snapshots.Compile(Service("weightedRandom", Weighted)).Distribution("s", 10_000);
        Assert.InRange(counts["a"], 2_200, 2_800);
        Assert.InRange(counts["b"], 7_200, 7_800);
    }

    [Fact]
    public void LeastRequest_BusyEndpoint_GetsLessTraffic()
    {
        var snapshot = Snapshots.Compile(Service("leastRequest", ThreeEqual));
        var busy = snapshot.Services["s"].EndpointsById["a"];
        for (var i = 0; i < 50; i++)
        {
            busy.State.OnStarted();
        }

        var counts = snapshot.Distribution("s", 3_000);
        // With two choices, the busy endpoint only wins when both samples are it: about 1/9 of picks.
        Assert.InRange(counts.GetValueOrDefault("a"), 150, 550);
        Assert.InRange(counts["b"], 1_000, 1_600);
    }

    [Fact]
    public void ConsistentHash_SameKey_SameEndpoint_KeysSpread()
    {
        var snapshot = Snapshots.Compile(Service("consistentHash", ThreeEqual, """, "hashOn": { "header": "x-user" }"""));
        var first = new Dictionary<string, string>();
        for (var i = 0; i < 300; i++)
        {
            first[$"user-{i}"] = snapshot.Route("s", TestRequest.WithHeader("x-user", $"user-{i}")).Endpoint!.Id;
        }

        foreach (var (user, id) in first)
        {
            Assert.Equal(id, snapshot.Route("s", TestRequest.WithHeader("x-user", user)).Endpoint!.Id);
        }

        var spread = first.Values.GroupBy(v => v).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(3, spread.Count);
        Assert.All(spread.Values, c => Assert.InRange(c, 50, 160));
    }

    [Fact]
    public void ConsistentHash_EndpointRemoved_OnlyItsKeysMove()
    {
        const string extra = """, "hashOn": { "query": "cart" }""";
        var before = Snapshots.Compile(Service("consistentHash", ThreeEqual, extra));
        var after = Snapshots.Compile(Service("consistentHash", """{ "id": "a", "address": "http://127.0.0.1:1" }, { "id": "b", "address": "http://127.0.0.1:2" }""", extra));
        for (var i = 0; i < 300; i++)
        {
            var request = new TestRequest("GET", query: $"?cart={i}");
            var was = before.Route("s", request).Endpoint!.Id;
            var now = after.Route("s", request).Endpoint!.Id;
            if (was != "c")
            {
                Assert.Equal(was, now);
            }
        }
    }

    [Fact]
    public void ZoneAware_LocalZoneAvailable_StaysLocal_ElseSpills()
    {
        var snapshot = Snapshots.Compile(Service("zoneAware", """
            { "id": "local", "address": "http://127.0.0.1:1", "zone": "z1" }, { "id": "remote", "address": "http://127.0.0.1:2", "zone": "z2" }
            """));
        Assert.Equal(["local"], snapshot.Distribution("s", 50).Keys);

        snapshot.Services["s"].EndpointsById["local"].State.Eject(TimeProvider.System.GetTimestamp() + TimeProvider.System.TimestampFrequency * 60);
        Assert.Equal(["remote"], snapshot.Distribution("s", 50).Keys);
    }

    [Theory]
    [InlineData("roundRobin")]
    [InlineData("random")]
    [InlineData("weightedRandom")]
    [InlineData("leastRequest")]
    public void Pick_EjectedEndpoint_IsAvoided_UntilAllAreEjected(string balancer)
    {
        var snapshot = Snapshots.Compile(Service(balancer, ThreeEqual));
        var service = snapshot.Services["s"];
        var until = TimeProvider.System.GetTimestamp() + TimeProvider.System.TimestampFrequency * 60;
        service.EndpointsById["a"].State.Eject(until);
        Assert.DoesNotContain("a", snapshot.Distribution("s", 300).Keys);

        // Everything ejected: sending somewhere beats failing every call ("panic" mode).
        service.EndpointsById["b"].State.Eject(until);
        service.EndpointsById["c"].State.Eject(until);
        Assert.Equal(3, snapshot.Distribution("s", 300).Count);
    }

    [Fact]
    public void Pick_ExcludedEndpoints_AreAvoided_ThenReusedWhenNoneLeft()
    {
        var snapshot = Snapshots.Compile(Service("roundRobin", ThreeEqual));
        var service = snapshot.Services["s"];
        var request = new TestRequest();
        var timestamp = TimeProvider.System.GetTimestamp();
        for (var i = 0; i < 30; i++)
        {
            var decision = snapshot.Route("s", ref request, null, timestamp, [service.EndpointsById["a"], service.EndpointsById["b"]]);
            Assert.Equal("c", decision.Endpoint!.Id);
        }

        Assert.Equal(RouteStatus.Routed, snapshot.Route("s", ref request, null, timestamp, service.Endpoints).Status);
    }

    [Fact]
    public void WarmUp_NewEndpoint_GetsSmallShareThenFullShare()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var runtime = Snapshots.Runtime("""
            { "services": { "s": {
                "endpoints": [
                  { "id": "old", "address": "http://127.0.0.1:1", "startedAt": "2025-12-31T00:00:00Z" },
                  { "id": "new", "address": "http://127.0.0.1:2", "startedAt": "2026-01-01T00:00:00Z" } ],
                "policy": { "warmUp": { "duration": "00:01:00", "curve": 1 } } } } }
            """, time);

        time.Advance(TimeSpan.FromSeconds(6));
        var early = Distribution(runtime, time, 4_000);
        Assert.InRange(early.GetValueOrDefault("new"), 200, 500); // about 10/110 of traffic

        time.Advance(TimeSpan.FromSeconds(60));
        var late = Distribution(runtime, time, 4_000);
        Assert.Equal(2_000, late["new"]); // warm: back to exact round robin
    }

    private static Dictionary<string, int> Distribution(Mesh.Runtime.MeshRuntime runtime, FakeTimeProvider time, int count)
    {
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < count; i++)
        {
            var request = new TestRequest();
            var id = runtime.Snapshot.Route("s", ref request, null, time.GetTimestamp()).Endpoint!.Id;
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }

        return counts;
    }

    [Fact]
    public void Registry_CustomBalancer_IsUsable()
    {
        var registry = new LoadBalancerRegistry().Add(new FirstBalancer());
        var runtime = new Mesh.Runtime.MeshRuntime(new Mesh.Runtime.MeshRuntimeOptions { LoadBalancers = registry });
        Assert.Empty(runtime.ApplyJson(Service("first", ThreeEqual), "test"));
        Assert.Equal(["a"], runtime.Snapshot.Distribution("s", 20).Keys);
    }

    private sealed class FirstBalancer : LoadBalancer
    {
        public override string Kind => "first";

        public override EndpointPicker CreatePicker(Mesh.Model.Endpoint[] endpoints, Mesh.Configuration.LoadBalancerDocument? settings, PickerSettings pickerSettings)
            => new RandomLoadBalancer().CreatePicker([endpoints[0]], settings, pickerSettings);
    }
}
