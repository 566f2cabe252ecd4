using System.Collections.Concurrent;
using Mesh.Extensibility;
using Mesh.Model;
using Mesh.Runtime;

namespace Mesh.Extensions.Resilience.OutlierDetection;

/// <summary>
/// The circuit breaker of a service whose policy says <c>circuitBreaker.scope: "endpoint"</c>: one breaker per
/// endpoint, so a failing instance stops taking calls while its healthy siblings serve them. When
/// <c>failureRatio</c> of at least <c>minimumThroughput</c> calls to an endpoint failed within
/// <c>samplingDuration</c> it opens: the endpoint is ejected (pickers skip it, no connection is attempted) for
/// <c>breakDuration</c>. Then it is half-open: the next call to it closes the breaker on success or opens it again
/// on failure. Transitions are counted in <c>mesh.circuit_breaker.transitions</c> with the endpoint.
/// </summary>
public sealed class EndpointCircuitBreaker : IMeshExtension, IOutcomeObserver
{
    private readonly MeshRuntime _runtime;
    private readonly FailureWindows _windows;
    private readonly ConcurrentDictionary<EndpointState, bool> _halfOpen = new();

    /// <summary>Creates the breakers for <paramref name="runtime"/>.</summary>
    public EndpointCircuitBreaker(MeshRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        _runtime = runtime;
        _windows = new FailureWindows(runtime.Time);
    }

    /// <inheritdoc />
    public string Name => "endpointCircuitBreaker";

    /// <inheritdoc />
    public int Order => 110;

    /// <inheritdoc />
    public void OnOutcome(in CallOutcome outcome)
    {
        if (outcome.Service.Policy.CircuitBreaker is not { Scope: "endpoint" } settings || outcome.Kind == OutcomeKind.Canceled)
        {
            return;
        }

        var state = outcome.Endpoint.State;
        var now = _runtime.Time.GetTimestamp();
        var trial = _halfOpen.TryRemove(state, out _);
        if (!outcome.IsFailure)
        {
            if (trial)
            {
                Transition(outcome, "closed");
            }

            return;
        }

        if (trial || _windows.Reached(state, settings.FailureRatio ?? 0.5, settings.MinimumThroughput ?? 20, settings.SamplingDuration ?? TimeSpan.FromSeconds(30), now))
        {
            var breakDuration = settings.BreakDuration ?? TimeSpan.FromSeconds(30);
            state.Eject(now + (long)(breakDuration.TotalSeconds * _runtime.Time.TimestampFrequency));
            _windows.Restart(state, now);
            _halfOpen[state] = true;
            Transition(outcome, "open");
        }
    }

    private void Transition(in CallOutcome outcome, string to)
        => _runtime.Telemetry.CircuitBreakerTransitions.Add(1, new KeyValuePair<string, object?>("mesh.service", outcome.Service.Name),
            new KeyValuePair<string, object?>("mesh.endpoint", outcome.Endpoint.Id), new KeyValuePair<string, object?>("mesh.state", to));
}
