using Mesh.Examples.CustomExtension;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Extensions.Governance.Tests;

/// <summary>The example custom extension at the routing join points, on a runtime of its own.</summary>
public sealed class CustomExtensionTests
{
    [Fact]
    public void AvoidVersionExtension_AvoidHeader_RoutesAwayFromThatVersion_PickedEndpointNamedInHeader()
    {
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson("""
            { "services": { "orders": { "endpoints": [
                { "id": "old", "address": "http://127.0.0.1:5001", "tags": { "version": "v1" } },
                { "id": "new", "address": "http://127.0.0.1:5002", "tags": { "version": "v2" } } ] } } }
            """, "test"));
        var extension = new AvoidVersionExtension();
        runtime.AddExtension(extension);

        for (var i = 0; i < 4; i++)
        {
            var request = new TestRequest("GET", "/", new(StringComparer.OrdinalIgnoreCase) { [AvoidVersionExtension.AvoidHeader] = "v1" });
            var decision = runtime.Route("orders", ref request, null);
            using var message = new HttpRequestMessage(HttpMethod.Get, decision.Endpoint!.Address);
            runtime.OnPicked(decision, message);

            Assert.Equal("new", decision.Endpoint.Id);
            Assert.Equal("new", message.Headers.GetValues(AvoidVersionExtension.PickedHeader).Single());
        }
    }
}
