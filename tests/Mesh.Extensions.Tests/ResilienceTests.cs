using Mesh.Extensions.Resilience;
using Mesh.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Extensions.Tests;

public sealed class ResilienceTests
{
    private static string TwoEndpoints(TestBackend a, TestBackend b, string policy) => $$"""
        { "services": { "orders": {
            "endpoints": [ { "id": "a", "address": "{{a.Address}}" }, { "id": "b", "address": "{{b.Address}}" } ],
            "policy": { {{policy}} } } } }
        """;

    [Fact]
    public async Task Retry_DeadEndpoint_RetriesOnOtherEndpoint()
    {
        await using var alive = await TestBackend.StartAsync("alive");
        var dead = await TestBackend.StartAsync("dead");
        var json = TwoEndpoints(alive, dead, """ "retry": { "maxAttempts": 2, "on": ["connectFailure"] } """);
        await dead.DisposeAsync();
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        var client = host.Client;

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("alive", await client.GetStringAsync("http://orders/"));
        }
    }

    [Fact]
    public async Task Retry_EndpointKilledAfterUse_RetriesOnOtherEndpoint_AndEjects()
    {
        await using var alive = await TestBackend.StartAsync("alive");
        var doomed = await TestBackend.StartAsync("doomed");
        var json = TwoEndpoints(alive, doomed, """
            "retry": { "maxAttempts": 3, "on": ["connectFailure", "5xx"] },
            "outlierDetection": { "consecutiveFailures": 1, "ejectionTime": "00:00:30", "maxEjectionPercent": 50 }
            """);
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        var client = host.Client;
        for (var i = 0; i < 4; i++)
        {
            await client.GetStringAsync("http://orders/");
        }

        await doomed.DisposeAsync();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("alive", await client.GetStringAsync("http://orders/"));
        }
    }
}
