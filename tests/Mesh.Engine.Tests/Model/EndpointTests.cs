using Mesh.Runtime;

namespace Mesh.Engine.Tests.Model;

public sealed class EndpointTests
{
    private static Mesh.Model.Endpoint Endpoint()
    {
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson("""{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:5001" } ] } } }""", "test"));
        return runtime.Snapshot.Services["orders"].EndpointsById["o1"];
    }

    [Fact]
    public void RequestUri_SamePathAgain_SameInstance_OtherPath_OwnAddress()
    {
        var endpoint = Endpoint();

        var first = endpoint.RequestUri("/api/items/7?x=1");
        var again = endpoint.RequestUri("/api/items/7?x=1");
        var other = endpoint.RequestUri("/api/items/8");
        var back = endpoint.RequestUri("/api/items/7?x=1");

        Assert.Equal("http://127.0.0.1:5001/api/items/7?x=1", first.AbsoluteUri);
        Assert.Same(first, again);
        Assert.Equal("http://127.0.0.1:5001/api/items/8", other.AbsoluteUri);
        Assert.Equal(first, back);
    }
}
