using System.Net;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Extensions.Yarp.Tests;

/// <summary>
/// A meshed service's admin endpoint is not reachable through the gateway: the gateway's hop comes from loopback, which
/// the endpoint trusted. The gateway does not forward to the admin path, and the endpoint refuses requests that came
/// through a proxy unless it has a token and the request gives it.
/// </summary>
public sealed class GatewayAdminTests
{
    private const string Token = "the-admin-token-of-inner";

    [Theory]
    [InlineData("/inner/mesh/admin")]
    [InlineData("/inner/MESH/Admin")]
    [InlineData("/inner/mesh/admin/")]
    [InlineData("/inner//mesh/admin")]
    [InlineData("/inner/mesh%2Fadmin")]
    [InlineData("/inner/mesh%2fadmin")]
    [InlineData("/inner/%6Desh/admin")]
    [InlineData("/inner/mesh/./admin")]
    [InlineData("/inner/mesh/admin?x=1")]
    public async Task Gateway_AdminPathOfAService_NeverForwarded_WhateverItsCaseOrEncoding(string path)
    {
        // The service's admin takes the token: only the gateway stands between the request and its answer.
        await using var inner = await StartServiceAsync(Token);
        await using var gateway = await StartGatewayAsync(inner, configure: null);
        using var client = new HttpClient();

        using var admin = await SendAsync(client, $"{gateway.ListeningAddress()}{path}", bearer: Token);
        using var app = await SendAsync(client, $"{gateway.ListeningAddress()}/inner/api/x", bearer: Token);

        Assert.Equal(HttpStatusCode.NotFound, admin.StatusCode);
        Assert.Equal("inner", await app.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Admin_ThroughAProxyOnLoopback_WithoutToken_NotServed_DirectLoopbackStillServed()
    {
        // A gateway told another admin path forwards this one: the endpoint must refuse the proxied request itself.
        await using var inner = await StartServiceAsync(token: null);
        await using var gateway = await StartGatewayAsync(inner, o => o.AdminPath = "/not-the-admin");
        using var client = new HttpClient();

        using var proxied = await SendAsync(client, $"{gateway.ListeningAddress()}/inner/mesh/admin");
        using var direct = await SendAsync(client, $"{inner.ListeningAddress()}/mesh/admin");
        using var forwardedFor = await SendAsync(client, $"{inner.ListeningAddress()}/mesh/admin", header: ("X-Forwarded-For", "203.0.113.7"));
        using var forwarded = await SendAsync(client, $"{inner.ListeningAddress()}/mesh/admin", header: ("Forwarded", "for=203.0.113.7"));

        Assert.Equal(HttpStatusCode.NotFound, proxied.StatusCode);
        Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
        Assert.Contains("\"snapshot\"", await direct.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, forwardedFor.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, forwarded.StatusCode);
    }

    [Fact]
    public async Task Admin_WithToken_ForwardedRequestGivingIt_Served_NotGivingIt_401()
    {
        await using var inner = await StartServiceAsync(Token);
        using var client = new HttpClient();

        using var withToken = await SendAsync(client, $"{inner.ListeningAddress()}/mesh/admin", bearer: Token, header: ("X-Forwarded-For", "203.0.113.7"));
        using var withoutToken = await SendAsync(client, $"{inner.ListeningAddress()}/mesh/admin", header: ("X-Forwarded-For", "203.0.113.7"));

        Assert.Equal(HttpStatusCode.OK, withToken.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutToken.StatusCode);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string address, string? bearer = null, (string Name, string Value)? header = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, address);
        if (bearer is not null)
        {
            request.Headers.Authorization = new("Bearer", bearer);
        }

        if (header is { } extra)
        {
            request.Headers.Add(extra.Name, extra.Value);
        }

        return await client.SendAsync(request);
    }

    // A meshed service, inner, with the admin endpoint; every other path answers "inner".
    private static async Task<WebApplication> StartServiceAsync(string? token)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddMesh(o => o.ServiceName = "inner").AddMeshAdmin(o => o.Token = token);
        var app = builder.Build();
        app.Map("/{**path}", () => "inner");
        await app.StartAsync();
        return app;
    }

    private static async Task<WebApplication> StartGatewayAsync(WebApplication inner, Action<MeshGatewayOptions>? configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddMesh(o => o.ServiceName = "gateway").AddMeshGateway(configure);
        var gateway = builder.Build();
        gateway.MapReverseProxy();
        await gateway.StartAsync();
        var runtime = gateway.Services.GetRequiredService<MeshRuntime>();
        Assert.Empty(runtime.ApplyJson($$"""
            { "services": { "inner": { "endpoints": [ { "id": "i1", "address": "{{inner.ListeningAddress()}}" } ] } } }
            """, "test"));
        return gateway;
    }
}
