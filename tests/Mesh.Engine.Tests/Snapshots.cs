using Mesh.Testing;
using Mesh.Routing;
using Mesh.Runtime;

namespace Mesh.Engine.Tests;

internal static class Snapshots
{
    /// <summary>Applies <paramref name="json"/> to a new runtime, failing the test on any validation error.</summary>
    public static MeshRuntime Runtime(string json, TimeProvider? time = null)
    {
        var runtime = new MeshRuntime(time: time);
        var errors = runtime.ApplyJson(json, "test");
        Assert.True(errors.Count == 0, string.Join("; ", errors));
        return runtime;
    }

    public static MeshSnapshot Compile(string json) => Runtime(json).Snapshot;

    public static RouteDecision Route(this MeshSnapshot snapshot, string host, TestRequest request, string? lane = null)
        => snapshot.Route(host, ref request, lane, TimeProvider.System.GetTimestamp());

    /// <summary>Picks <paramref name="count"/> times and counts picks per endpoint id.</summary>
    public static Dictionary<string, int> Distribution(this MeshSnapshot snapshot, string host, int count, Func<int, TestRequest>? request = null, string? lane = null)
    {
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < count; i++)
        {
            var decision = snapshot.Route(host, request?.Invoke(i) ?? new TestRequest(), lane);
            Assert.Equal(RouteStatus.Routed, decision.Status);
            var id = decision.Endpoint!.Id;
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }

        return counts;
    }
}
