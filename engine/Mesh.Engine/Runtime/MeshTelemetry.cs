using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mesh.Runtime;

/// <summary>
/// The mesh's one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named <c>Mesh</c>, with the
/// instruments every part of the mesh reports to. Names follow OpenTelemetry conventions (<c>mesh.*</c>, UCUM units).
/// </summary>
public sealed class MeshTelemetry : IDisposable
{
    /// <summary>The name of the meter and the activity source.</summary>
    public const string Name = "Mesh";

    private readonly bool _ownsMeter;

    /// <summary>Creates the instruments on a meter from <paramref name="meterFactory"/>, or on an own meter.</summary>
    public MeshTelemetry(IMeterFactory? meterFactory = null)
    {
        Meter = meterFactory?.Create(Name) ?? new Meter(Name);
        _ownsMeter = meterFactory is null;
        ActivitySource = new ActivitySource(Name);
        Requests = Meter.CreateCounter<long>("mesh.requests", "{request}", "Calls routed by the mesh, by service, endpoint, route and outcome.");
        Duration = Meter.CreateHistogram<double>("mesh.request.duration", "s", "Duration of routed calls.");
        Rejections = Meter.CreateCounter<long>("mesh.config.rejections", "{rule}", "Configuration documents rejected, by source, key and reason.");
        RoutingFailures = Meter.CreateCounter<long>("mesh.routing.failures", "{request}", "Calls the router could not place (no endpoint, lane rejected).");
        ExtensionFailures = Meter.CreateCounter<long>("mesh.extension.failures", "{failure}", "Exceptions thrown by extensions, isolated by the mesh.");
        ListenerFailures = Meter.CreateCounter<long>("mesh.listener.failures", "{failure}", "Exceptions caught in diagnostic listeners; the request went on unmeshed.");
        CircuitBreakerTransitions = Meter.CreateCounter<long>("mesh.circuit_breaker.transitions", "{transition}",
            "Circuit breaker state changes, by service (and endpoint for endpoint-scoped breakers) and new state (open, half_open, closed).");
        ProviderFailures = Meter.CreateCounter<long>("mesh.provider.failures", "{failure}",
            "Failures of configuration sources (unreachable etcd, unexpected exceptions), by source and reason; the last good configuration stays in force.");
        InboundContextDropped = Meter.CreateCounter<long>("mesh.inbound.context.dropped", "{header}",
            "Mesh context headers of inbound requests dropped at the edge (not printable ASCII, or too long), by header; the request goes on without that value.");
    }

    /// <summary><c>mesh.inbound.context.dropped</c>.</summary>
    public Counter<long> InboundContextDropped { get; }

    /// <summary>The meter named <c>Mesh</c>.</summary>
    public Meter Meter { get; }

    /// <summary>The activity source named <c>Mesh</c>.</summary>
    public ActivitySource ActivitySource { get; }

    /// <summary><c>mesh.requests</c>.</summary>
    public Counter<long> Requests { get; }

    /// <summary><c>mesh.request.duration</c>.</summary>
    public Histogram<double> Duration { get; }

    /// <summary><c>mesh.config.rejections</c>.</summary>
    public Counter<long> Rejections { get; }

    /// <summary><c>mesh.routing.failures</c>.</summary>
    public Counter<long> RoutingFailures { get; }

    /// <summary><c>mesh.extension.failures</c>.</summary>
    public Counter<long> ExtensionFailures { get; }

    /// <summary><c>mesh.listener.failures</c>.</summary>
    public Counter<long> ListenerFailures { get; }

    /// <summary>
    /// <c>mesh.circuit_breaker.transitions</c>, shared by the service breakers and the endpoint breakers: one
    /// instrument, so exporters see one description and unit for the name.
    /// </summary>
    public Counter<long> CircuitBreakerTransitions { get; }

    /// <summary><c>mesh.provider.failures</c>.</summary>
    public Counter<long> ProviderFailures { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        ActivitySource.Dispose();
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}
