using System.Net;
using Mesh.Examples.CustomExtension;
using Mesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using ThrowingExtension;

namespace Mesh.Extensions.Governance.Tests;

public sealed class ExtensionIsolationTests
{
    private static Func<string, string> Orders => address => $$"""{ "services": { "orders": { "endpoints": [ { "id": "self", "address": "{{address}}" } ] } } }""";

    [Fact]
    public async Task ThrowingExtensions_RequestsStillServed_FailuresCounted_CustomExtensionRuns()
    {
        // ThrowsWhenConstructed is left out at start (reported then, before the recorder below): the inbound
        // pipeline is built without it.
        await using var app = await GovernedApp.StartAsync(Orders,
            m => m.AddExtension<ThrowsWhenConstructed>().AddExtension<ThrowsOnRequest>().AddExtension<FaultsOnRequest>().AddExtension<ServedByExtension>());
        using var metrics = new MetricRecorder(app.Runtime.Telemetry.Meter, "mesh.extension.failures");
        using var client = new HttpClient();

        using var response = await client.GetAsync($"{app.Address}/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("orders", response.Headers.GetValues(ServedByExtension.Header).Single());
        Assert.Equal(2, metrics.Sum("mesh.extension.failures"));
    }
}
