using System.Net;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Extensions.Yarp.Tests;

/// <summary>
/// A gateway in a mesh that signs callers, in front of a service that lets only the gateway in: what a client sends
/// as a caller signature must not travel on next to the signature the mesh adds for the gateway.
/// </summary>
public sealed class GatewayCallerSignatureTests
{
    private const string SigningKey = "a-shared-secret-of-the-mesh";
    private const string SignatureHeader = "x-mesh-caller-signature";

    [Fact]
    public async Task Gateway_ClientSentCallerSignature_NeverReachesTheBackendAndTheCallIsNotForbidden()
    {
        await using var orders = await StartAsync("orders", """
            { "mesh": { "callerSigningKey": "{{key}}" },
              "services": { "orders": { "policy": { "extensions": { "authorization": { "allow": ["gateway"] } } } } } }
            """, mesh => mesh.AddCallerAuthorization(), app => app.Map("/{**path}", (HttpContext context) =>
                $"caller={MeshContext.Current?.Caller} signature={context.Request.Headers[SignatureHeader]}"));
        await using var gateway = await StartAsync("gateway", $$$"""
            { "mesh": { "callerSigningKey": "{{key}}" },
              "services": { "orders": { "endpoints": [ { "id": "o1", "address": "{{{orders.App.ListeningAddress()}}}" } ] } } }
            """, mesh => mesh.AddMeshInbound().AddMeshGateway(), app => app.MapReverseProxy());
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{gateway.App.ListeningAddress()}/orders/api/x");
        request.Headers.Add("x-mesh-caller", "payments");
        request.Headers.Add(SignatureHeader, "1764000000.client-made-up");

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The backend verified the gateway's own signature, the only one it received.
        Assert.StartsWith("caller=gateway signature=", body, StringComparison.Ordinal);
        Assert.DoesNotContain("client-made-up", body, StringComparison.Ordinal);
        // Two values of the header would arrive joined by a comma.
        Assert.DoesNotContain(",", body, StringComparison.Ordinal);
    }

    /// <summary>A meshed app named <paramref name="serviceName"/> on 127.0.0.1, on rules from <paramref name="meshJson"/> (<c>{{key}}</c> is the signing key).</summary>
    private static async Task<MeshedApp> StartAsync(string serviceName, string meshJson, Action<IMeshBuilder> mesh, Action<WebApplication> map)
    {
        var config = new TempFile();
        config.Write(meshJson.Replace("{{key}}", SigningKey, StringComparison.Ordinal));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        mesh(builder.Services.AddMesh(o =>
        {
            o.UseFile(config.Path);
            o.ServiceName = serviceName;
        }));
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var runtime = app.Services.GetRequiredService<MeshRuntime>();
        await Eventually.UntilAsync(() => runtime.Snapshot.Version > 0, $"the rules of {serviceName} applied");
        return new MeshedApp(app, config);
    }

    private sealed record MeshedApp(WebApplication App, TempFile Config) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await App.StopAsync();
            await App.DisposeAsync();
            Config.Dispose();
        }
    }
}
