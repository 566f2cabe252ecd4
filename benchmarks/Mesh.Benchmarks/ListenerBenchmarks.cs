using BenchmarkDotNet.Attributes;
using Mesh.Http;
using Mesh.Runtime;

namespace Mesh.Benchmarks;

/// <summary>
/// The listener's own work per request: HttpClient's question whether to create an activity for the request (route,
/// rewrite the URI, stamp headers, record the call), its question whether to raise the request event (launch the
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
    private Func<string, object?, object?, bool> _isEnabled = null!;
    private HttpRequestMessage _request = null!;
    private HttpResponseMessage _response = null!;
    private ResponsePayload _responsePayload = null!;

    [GlobalSetup]
    public void Setup()
    {
        _runtime = MeshFixtures.Runtime(10, 0);
        _attachment = MeshAgent.Attach(_runtime);
        _observer = HttpClientObserver.Registration.Observer;
        _isEnabled = HttpClientObserver.Registration.IsEnabled;
        _request = new HttpRequestMessage(HttpMethod.Get, Logical);
        _response = new HttpResponseMessage { RequestMessage = _request };
        _responsePayload = new ResponsePayload(_response);
    }

    [GlobalCleanup]
    public void Cleanup() => _attachment.Dispose();

    [Benchmark(Description = "activity question + request-event question + response event, routed call")]
    public void RoutedCall()
    {
        var request = _request;
        request.RequestUri = Logical;
        _isEnabled("System.Net.Http.HttpRequestOut", request, null);
        _isEnabled("System.Net.Http.Request", null, null);
        _observer.OnNext(new("System.Net.Http.Response", _responsePayload));
        ((IDictionary<string, object?>)request.Options).Remove(MeshRequestOptions.Call.Key);
        request.Headers.Remove("x-mesh-caller");
    }

    /// <summary>Shaped like HttpClient's internal response payload, which the listener reads by property name.</summary>
    public sealed record ResponsePayload(HttpResponseMessage Response);
}
