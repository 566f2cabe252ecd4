using BenchmarkDotNet.Attributes;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Benchmarks;

/// <summary>One pick of each balancer over 1,000 endpoints (no rules, so the pick dominates).</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class BalancerBenchmarks
{
    private MeshRuntime _runtime = null!;
    private TestRequest _request;

    [Params("roundRobin", "random", "weightedRandom", "leastRequest", "consistentHash", "zoneAware")]
    public string Balancer { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _runtime = MeshFixtures.Runtime(1000, 0, Balancer);
        _request = TestRequest.WithHeader("x-user", "user-42");
    }

    [Benchmark]
    public Mesh.Model.Endpoint? Pick() => _runtime.Route("orders", ref _request, null).Endpoint;
}
