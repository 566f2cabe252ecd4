using System.Diagnostics.Metrics;
using System.Net;
using Mesh.AspNetCore;
using Mesh.Examples.CustomExtension;
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
        long failures = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "mesh.extension.failures" && ReferenceEquals(instrument.Meter, app.Runtime.Telemetry.Meter))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref failures, value));
        listener.Start();
        using var client = new HttpClient();

        using var response = await client.GetAsync($"{app.Address}/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("orders", response.Headers.GetValues(ServedByExtension.Header).Single());
        Assert.Equal(2, Interlocked.Read(ref failures));
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
