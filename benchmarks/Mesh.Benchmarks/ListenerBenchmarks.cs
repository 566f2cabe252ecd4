using BenchmarkDotNet.Attributes;
using Mesh.Http;
using Mesh.Runtime;

namespace Mesh.Benchmarks;

/// <summary>
/// The listener's own work per request: the request event (route, rewrite the URI, stamp headers, record the
/// call) and the response event (report the outcome), fed the way HttpClient feeds them.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ListenerBenchmarks
{
    private static readonly Uri Logical = new("http://orders/api/items/7");
    private MeshRuntime _runtime = null!;
    private IDisposable _attachment = null!;
    private IObserver<KeyValuePair<string, object?>> _observer = null!;
    private HttpResponseMessage _response = null!;
    private RequestPayload _payload = null!;
    private ResponsePayload _responsePayload = null!;

    [GlobalSetup]
    public void Setup()
    {
        _runtime = MeshFixtures.Runtime(10, 0);
        _attachment = MeshAgent.Attach(_runtime);
        _observer = HttpClientObserver.Registration.Observer;
        var request = new HttpRequestMessage(HttpMethod.Get, Logical);
        _response = new HttpResponseMessage { RequestMessage = request };
        _payload = new RequestPayload(request);
        _responsePayload = new ResponsePayload(_response);
    }

    [GlobalCleanup]
    public void Cleanup() => _attachment.Dispose();

    [Benchmark(Description = "request + response events, routed call")]
    public void RoutedCall()
    {
        var request = _payload.Request;
        request.RequestUri = Logical;
        _observer.OnNext(new("System.Net.Http.Request", _payload));
        _observer.OnNext(new("System.Net.Http.Response", _responsePayload));
        ((IDictionary<string, object?>)request.Options).Remove(MeshRequestOptions.Call.Key);
        request.Headers.Remove("x-mesh-caller");
    }

    /// <summary>Shaped like HttpClient's internal payloads, which the listener reads by property name.</summary>
    public sealed record RequestPayload(HttpRequestMessage Request);

    /// <summary>Shaped like HttpClient's internal response payload.</summary>
    public sealed record ResponsePayload(HttpResponseMessage Response);
}
