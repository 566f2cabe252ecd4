using System.Net.Http;
using Mesh.Http;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Listeners.Tests;

public sealed class HttpClientRoutingTests
{
    [Fact]
    public async Task RawHttpClient_ServiceHost_IsRoutedToEndpoint()
    {
        await using var v1 = await TestBackend.StartAsync("orders-v1");
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson($$"""
            { "services": { "orders": { "endpoints": [ { "id": "o1", "address": "{{v1.Address}}" } ] } } }
            """, "test"));
        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);

        using var client = new HttpClient();
        var body = await client.GetStringAsync("http://orders/api/x");

        Assert.Equal("orders-v1", body);
    }
}
