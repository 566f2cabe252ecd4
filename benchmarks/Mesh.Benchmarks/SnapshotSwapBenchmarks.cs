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
        var document = _runtime.Snapshot.Document;
        _writer = Task.Run(() =>
        {
            while (!_stop.IsCancellationRequested)
            {
                _runtime.Apply(document, "swap");
            }
        });
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop.Cancel();
        _writer.Wait();
    }

    [Benchmark(Description = "route while snapshots swap")]
    public Mesh.Model.Endpoint? RouteDuringSwaps() => _runtime.Route("orders", ref _request, null).Endpoint;
}
