using Mesh.Model;
using Mesh.Routing;

namespace Mesh.Runtime;

/// <summary>How one routed call ended, as reported to observers (balancers, outlier detection, breakers, metrics).</summary>
public readonly record struct CallOutcome(
    MeshService Service,
    Endpoint Endpoint,
    string Route,
    OutcomeKind Kind,
    int StatusCode,
    TimeSpan Duration)
{
    /// <summary>Whether the call counts as a failure of the endpoint.</summary>
    public bool IsFailure => Kind is not (OutcomeKind.Success or OutcomeKind.Canceled);
}

/// <summary>Kinds of call outcomes.</summary>
public enum OutcomeKind
{
    /// <summary>A response below 500 (and no gRPC failure status).</summary>
    Success,

    /// <summary>A 5xx response.</summary>
    ServerError,

    /// <summary>No connection could be made, or it broke before a response.</summary>
    ConnectFailure,

    /// <summary>The call timed out.</summary>
    Timeout,

    /// <summary>The caller canceled; says nothing about the endpoint.</summary>
    Canceled,

    /// <summary>A gRPC status that marks the endpoint unhealthy (UNAVAILABLE, INTERNAL, ...).</summary>
    GrpcFailure,
}

/// <summary>Receives the outcome of every routed call. Must be fast and must not throw.</summary>
public interface IOutcomeObserver
{
    /// <summary>Called once per completed call.</summary>
    void OnOutcome(in CallOutcome outcome);
}
