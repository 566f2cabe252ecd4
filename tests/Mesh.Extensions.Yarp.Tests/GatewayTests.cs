using System.Net;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Extensions.Yarp.Tests;

public sealed class GatewayTests : IAsyncLifetime
{
    private readonly TempFile _config = new();
    private TestBackend _v1 = null!;
    private TestBackend _v2 = null!;
    private TestBackend _gray = null!;
    private WebApplication _gateway = null!;
    private HttpClient _client = null!;

    private string Mesh => $$"""
        {
          "mesh": { "serviceName": "gateway" },
          "services": {
            "orders": {
              "endpoints": [
                { "id": "v1", "address": "{{_v1.Address}}", "tags": { "version": "v1" } },
                { "id": "v2", "address": "{{_v2.Address}}", "tags": { "version": "v2" } },
                { "id": "gray", "address": "{{_gray.Address}}", "tags": { "version": "v1", "lane": "gray" } }
              ],
              "policy": { "routes": [ { "name": "beta", "match": { "headers": { "x-user": { "prefix": "beta-" } } },
                                        "destinations": [ { "subset": { "version": "v2" } } ] } ] }
            }
          }
        }
        """;

    public async Task InitializeAsync()
    {
        _v1 = await TestBackend.StartAsync("orders-v1");
        _v2 = await TestBackend.StartAsync("orders-v2");
        _gray = await TestBackend.StartAsync("orders-gray");
        _config.Write(Mesh);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddMesh(o => o.UseFile(_config.Path)).AddMeshInbound().AddMeshGateway(o =>
        {
            o.LaneFromCookie = "lane";
            o.AllowedLanes.Add("gray");
        });
        _gateway = builder.Build();
        _gateway.MapReverseProxy();
        await _gateway.StartAsync();
        var runtime = _gateway.Services.GetRequiredService<MeshRuntime>();
        await Eventually.UntilAsync(() => runtime.Snapshot.Version > 0, "mesh file applied");
        var address = _gateway.ListeningAddress();
        _client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _gateway.StopAsync();
        await _gateway.DisposeAsync();
        await _v1.DisposeAsync();
        await _v2.DisposeAsync();
        await _gray.DisposeAsync();
        _config.Dispose();
    }

    private async Task<HttpResponseMessage> GetOrdersAsync(params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/orders/api/x");
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return await _client.SendAsync(request);
    }

    [Fact]
    public async Task Gateway_MeshHeaderRule_RoutesToTheRulesSubset()
    {
        using var response = await GetOrdersAsync(("x-user", "beta-7"));

        Assert.Equal("orders-v2", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, _v2.Requests);
    }

    [Fact]
    public async Task Gateway_LaneCookie_RoutesToTheLaneEndpointAndPropagatesTheLane()
    {
        using var response = await GetOrdersAsync(("Cookie", "lane=gray"));

        Assert.Equal("orders-gray", await response.Content.ReadAsStringAsync());
        Assert.Equal("gray", response.Headers.GetValues("x-seen-x-mesh-lane").Single());
        Assert.Equal("gateway", response.Headers.GetValues("x-seen-x-mesh-caller").Single());
    }

    [Fact]
    public async Task Gateway_ClientSentLaneAndCallerHeaders_AreStrippedAtTheEdge()
    {
        using var response = await GetOrdersAsync(("x-mesh-lane", "gray"), ("x-mesh-caller", "payments"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual("orders-gray", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("x-seen-x-mesh-lane"));
        Assert.Equal("gateway", response.Headers.GetValues("x-seen-x-mesh-caller").Single());
    }

    [Fact]
    public async Task Gateway_MeshSwitchedOff_Answers503_NoGuessedAddress_BackWhenOn()
    {
        var runtime = _gateway.Services.GetRequiredService<MeshRuntime>();
        var version = runtime.Snapshot.Version;
        _config.Write(Mesh.Replace("\"serviceName\": \"gateway\"", "\"serviceName\": \"gateway\", \"enabled\": false", StringComparison.Ordinal));
        await Eventually.UntilAsync(() => runtime.Snapshot.Version > version && !runtime.Snapshot.Enabled, "the mesh to be switched off");

        // Not a DNS lookup of orders:80 and whatever answers there: the edge says the service is unavailable.
        await Eventually.UntilAsync(async () =>
        {
            using var off = await GetOrdersAsync();
            return off.StatusCode == HttpStatusCode.ServiceUnavailable;
        }, "the gateway to answer 503");
        Assert.Equal(0, _v1.Requests + _v2.Requests + _gray.Requests);

        version = runtime.Snapshot.Version;
        _config.Write(Mesh);
        await Eventually.UntilAsync(() => runtime.Snapshot.Version > version && runtime.Snapshot.Enabled, "the mesh to be switched on");
        await Eventually.UntilAsync(async () =>
        {
            using var on = await GetOrdersAsync();
            return on.StatusCode == HttpStatusCode.OK;
        }, "the gateway to route again");
    }

    [Fact]
    public async Task Gateway_LaneNotAllowed_IsIgnored()
    {
        using var response = await GetOrdersAsync(("Cookie", "lane=admin"));

        Assert.NotEqual("orders-gray", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("x-seen-x-mesh-lane"));
    }

    [Fact]
    public async Task Gateway_ServiceAddedToTheMesh_GetsARoute()
    {
        await using var users = await TestBackend.StartAsync("users-1");
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/users/me")).StatusCode);

        _config.Write(Mesh.Replace("\"services\": {", $$"""
            "services": { "users": { "endpoints": [ { "id": "u1", "address": "{{users.Address}}" } ] },
            """, StringComparison.Ordinal));

        await Eventually.UntilAsync(async () => (await _client.GetAsync("/users/me")).StatusCode == HttpStatusCode.OK, "users routed by the gateway");
        Assert.Equal("users-1", await _client.GetStringAsync("/users/me"));
    }
}
