using BenchmarkDotNet.Attributes;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Benchmarks;

/// <summary>Routing while another thread keeps applying new snapshots: readers never wait on the writer.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class SnapshotSwapBenchmarks
{
    private MeshRuntime _runtime = null!;
    private TestRequest _request;
    private CancellationTokenSource _stop = null!;
    private Task _writer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _runtime = MeshFixtures.Runtime(100, 10);
        _request = new TestRequest();
        _stop = new CancellationTokenSource();
        // Two copies of the document, applied in turn: each apply is a change to be validated and compiled (the
        // same document object again would be carried over whole and compile nothing).
        var json = Mesh.Configuration.MeshJson.Serialize(_runtime.Snapshot.Document);
        var documents = new[] { Parse(json), Parse(json) };
        _writer = Task.Run(() =>
        {
            for (var i = 0; !_stop.IsCancellationRequested; i++)
            {
                _runtime.Apply(documents[i % 2], "swap");
            }
        });
    }

    private static Mesh.Configuration.MeshDocument Parse(string json)
        => Mesh.Configuration.MeshJson.TryParseDocument(json, out var document, out var error) ? document : throw new InvalidOperationException(error!.Message);

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop.Cancel();
        _writer.Wait();
    }

    [Benchmark(Description = "route while snapshots swap")]
    public Mesh.Model.Endpoint? RouteDuringSwaps() => _runtime.Route("orders", ref _request, null).Endpoint;
}
