using BenchmarkDotNet.Attributes;
using Mesh.Routing;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Benchmarks;

/// <summary>The route decision alone: 100 rules, weighted subsets, lanes, at 10 and 1,000 endpoints.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class RouteBenchmarks
{
    private const int Rules = 100;
    private MeshRuntime _runtime = null!;
    private TestRequest _lastRule;
    private TestRequest _noRule;

    [Params(10, 1000)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _runtime = MeshFixtures.Runtime(Endpoints, Rules);
        _lastRule = new TestRequest("GET", "/api/other", new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-user"] = "nobody", ["x-tenant"] = $"tenant-{Rules - 1}" });
        _noRule = new TestRequest("GET", "/other", new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-user"] = "nobody" });
        if (_runtime.Route("orders", ref _lastRule, null).Route?.Name != $"r{Rules - 1}")
        {
            throw new InvalidOperationException("the benchmark request should match the last rule");
        }
    }

    [Benchmark(Description = "100 rules evaluated, last matches")]
    public Mesh.Model.Endpoint? LastRuleMatches() => _runtime.Route("orders", ref _lastRule, null).Endpoint;

    [Benchmark(Description = "100 rules evaluated, none matches")]
    public Mesh.Model.Endpoint? NoRuleMatches() => _runtime.Route("orders", ref _noRule, null).Endpoint;

    [Benchmark(Description = "lane request, last rule matches")]
    public Mesh.Model.Endpoint? LaneRequest() => _runtime.Route("orders", ref _lastRule, "gray").Endpoint;

    [Benchmark(Description = "unknown host (pass-through)")]
    public RouteStatus UnknownHost() => _runtime.Route("example.com", ref _noRule, null).Status;
}
