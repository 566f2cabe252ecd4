using BenchmarkDotNet.Attributes;
using Mesh.Extensions.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.Benchmarks;

/// <summary>
/// What <c>AddMesh().AddResilience()</c> adds to an <c>IHttpClientFactory</c> client: a host built and started as an
/// app would, the factory's real handler chain over the in-memory connection of <see cref="CannedConnection"/>.
/// The service has no retry, timeout or breaker, as in the end-to-end run, so what is measured is the mesh's
/// handlers and the listener. Each case runs in its own process.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class FactoryPipelineBenchmarks
{
    private static readonly Uri Direct = new("http://127.0.0.1:5000/api/items/7");
    private static readonly Uri Logical = new("http://orders/api/items/7");
    private IHost _host = null!;
    private HttpClient _client = null!;
    private string? _configPath;

    [GlobalSetup(Target = nameof(FactoryCall))]
    public void SetupFactory() => Start(addMesh: false);

    [GlobalSetup(Target = nameof(MeshedFactoryCall))]
    public void SetupMeshedFactory() => Start(addMesh: true);

    [GlobalCleanup]
    public void Cleanup()
    {
        _host.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
        if (_configPath is not null)
        {
            File.Delete(_configPath);
        }
    }

    [Benchmark(Baseline = true, Description = "factory client, no mesh: call to an address")]
    public Task FactoryCall() => SendAsync(Direct);

    [Benchmark(Description = "factory client, AddMesh().AddResilience(): call to http://orders, routed")]
    public Task MeshedFactoryCall() => SendAsync(Logical);

    private void Start(bool addMesh)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddHttpClient("load").ConfigurePrimaryHttpMessageHandler(CannedConnection.CreateHandler);
        if (addMesh)
        {
            _configPath = Path.GetTempFileName();
            File.WriteAllText(_configPath, """{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:5000" } ] } } }""");
            builder.Services.AddMesh(options => options.UseFile(_configPath)).AddResilience();
        }

        _host = builder.Build();
        _host.StartAsync().GetAwaiter().GetResult();
        _client = _host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("load");
    }

    private async Task SendAsync(Uri uri)
    {
        using var response = await _client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }
}
