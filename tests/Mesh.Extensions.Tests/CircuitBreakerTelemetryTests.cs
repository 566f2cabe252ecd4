using Mesh.Extensions.Resilience;
using Mesh.Extensions.Resilience.OutlierDetection;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Extensions.Tests;

public sealed class CircuitBreakerTelemetryTests
{
    [Fact]
    public void Transitions_ServiceAndEndpointBreakers_ShareOneInstrument()
    {
        using var runtime = new MeshRuntime();
        using var metrics = new MetricRecorder(runtime.Telemetry.Meter, "mesh.circuit_breaker.transitions");

        _ = new ServicePipelines(runtime);
        _ = new EndpointCircuitBreaker(runtime);

        // Two instruments of one name with different descriptions make exporters drop or merge one of them.
        var instrument = Assert.Single(metrics.Instruments);
        Assert.Same(runtime.Telemetry.CircuitBreakerTransitions, instrument);
    }
}
