using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.Providers.Etcd.Tests;

/// <summary>The etcd provider inside a host: a bad configuration of it never keeps the app from starting.</summary>
public sealed class EtcdHostingTests
{
    [Fact]
    public async Task Host_EtcdMisconfigured_StartsFailOpen_FailuresCounted_FileStillRoutes()
    {
        await using var backend = await TestBackend.StartAsync("from-file");
        using var file = new TempFile();
        file.Write($$"""{ "services": { "orders": { "endpoints": [ { "id": "f1", "address": "{{backend.Address}}" } ] } } }""");
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddMesh(options => options.UseFile(file.Path))
            .AddEtcdProvider(etcd => etcd.Endpoints.Clear())
            .AddEtcdProvider(etcd =>
            {
                etcd.Endpoints.Add("https://127.0.0.1:1");
                etcd.CaFile = Path.Combine(file.Directory, "missing-ca.pem");
            });
        using var host = builder.Build();
        using var failures = new MetricRecorder(host.Services.GetRequiredService<MeshRuntime>().Telemetry.Meter, "mesh.provider.failures");

        await host.StartAsync();

        Assert.Equal(2, failures.Measurements.Length);
        Assert.All(failures.Measurements, f => Assert.StartsWith("etcd", f.Tag("mesh.source"), StringComparison.Ordinal));
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
        Assert.Equal("from-file", await client.GetStringAsync("http://orders/"));
        await host.StopAsync();
    }
}
