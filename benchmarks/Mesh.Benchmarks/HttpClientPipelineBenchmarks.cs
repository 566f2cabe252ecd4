using BenchmarkDotNet.Attributes;
using Mesh.Runtime;

namespace Mesh.Benchmarks;

/// <summary>
/// What a whole HttpClient call costs with and without the mesh: the real handler pipeline (SocketsHttpHandler,
/// and HttpClient's diagnostics handler once a listener is subscribed) over an in-memory connection answered in place,
/// so that no socket or scheduler noise hides the difference. Each case runs in its own process,
/// so the direct case has no diagnostic subscriber at all, as in an app without the mesh.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class HttpClientPipelineBenchmarks
{
    private static readonly Uri Direct = new("http://127.0.0.1:5000/api/items/7");
    private static readonly Uri Logical = new("http://orders/api/items/7");
    private HttpClient _client = null!;
    private IDisposable? _attachment;

    [GlobalSetup(Target = nameof(DirectCall))]
    public void SetupDirect() => _client = new HttpClient(CannedConnection.CreateHandler());

    [GlobalSetup(Targets = [nameof(PassThroughCall), nameof(RoutedCall)])]
    public void SetupMeshed()
    {
        var runtime = new MeshRuntime();
        var errors = runtime.ApplyJson("""{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:5001" } ] } } }""", "benchmark");
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        _attachment = MeshAgent.Attach(runtime);
        _client = new HttpClient(CannedConnection.CreateHandler());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _attachment?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "no mesh: call to an address")]
    public Task DirectCall() => SendAsync(Direct);

    [Benchmark(Description = "mesh attached: call to an address it does not know")]
    public Task PassThroughCall() => SendAsync(Direct);

    [Benchmark(Description = "mesh attached: call to http://orders, routed")]
    public Task RoutedCall() => SendAsync(Logical);

    private async Task SendAsync(Uri uri)
    {
        using var response = await _client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }
}
