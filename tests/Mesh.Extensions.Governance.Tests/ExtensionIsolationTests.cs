using System.Net;
using Mesh.AspNetCore;
using Mesh.Examples.CustomExtension;
using Mesh.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Extensions.Governance.Tests;

public sealed class ExtensionIsolationTests
{
    private static Func<string, string> Orders => address => $$"""{ "services": { "orders": { "endpoints": [ { "id": "self", "address": "{{address}}" } ] } } }""";

    [Fact]
    public async Task ThrowingExtensions_RequestsStillServed_FailuresCounted_CustomExtensionRuns()
    {
        await using var app = await GovernedApp.StartAsync(Orders, m => m.AddExtension<ThrowsBeforeNext>().AddExtension<FaultsBeforeNext>().AddExtension<ServedByExtension>());
        using var metrics = new MetricRecorder(app.Runtime.Telemetry.Meter, "mesh.extension.failures");
        using var client = new HttpClient();

        using var response = await client.GetAsync($"{app.Address}/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("orders", response.Headers.GetValues(ServedByExtension.Header).Single());
        Assert.Equal(2, metrics.Sum("mesh.extension.failures"));
    }

    private sealed class ThrowsBeforeNext : IInboundExtension
    {
        public string Name => "throwsBeforeNext";

        public int Order => 1;

        public Task InvokeAsync(HttpContext context, RequestDelegate next) => throw new InvalidOperationException("fails on purpose");
    }

    private sealed class FaultsBeforeNext : IInboundExtension
    {
        public string Name => "faultsBeforeNext";

        public int Order => 2;

        public async Task InvokeAsync(HttpContext context, RequestDelegate next)
        {
            await Task.Yield();
            throw new InvalidOperationException("fails on purpose, asynchronously");
        }
    }
}
