using System.Collections.Frozen;
using Mesh.Configuration;
using Mesh.Model;

namespace Mesh.Routing;

/// <summary>A service as compiled into a snapshot: endpoints, routes, policy.</summary>
public sealed class MeshService
{
    internal MeshService(string name, Endpoint[] endpoints, CompiledRoute[] routes, RouteIndex routeIndex, CompiledRoute defaultRoute, bool rejectMissingLane,
        HashOnDocument? hashOn, PolicyDocument policy, string policyFingerprint, ServiceDocument source)
    {
        Source = source;
        Name = name;
        Endpoints = endpoints;
        EndpointsById = endpoints.ToFrozenDictionary(e => e.Id, StringComparer.Ordinal);
        Routes = routes;
        RouteIndex = routeIndex;
        DefaultRoute = defaultRoute;
        RejectMissingLane = rejectMissingLane;
        HashOn = hashOn;
        Policy = policy;
        PolicyFingerprint = policyFingerprint;
    }

    /// <summary>The logical name (the host applications call).</summary>
    public string Name { get; }

    /// <summary>All endpoints, in document order.</summary>
    public Endpoint[] Endpoints { get; }

    /// <summary>Endpoints by id.</summary>
    public FrozenDictionary<string, Endpoint> EndpointsById { get; }

    /// <summary>Routes in evaluation order.</summary>
    public CompiledRoute[] Routes { get; }

    /// <summary>Finds the first matching route of <see cref="Routes"/> without evaluating them all.</summary>
    internal RouteIndex RouteIndex { get; }

    /// <summary>The implicit route of requests that match no route: every base-lane endpoint.</summary>
    public CompiledRoute DefaultRoute { get; }

    /// <summary>True when a request whose lane has no endpoint fails instead of falling back to the base lane.</summary>
    public bool RejectMissingLane { get; }

    /// <summary>The consistent-hash key source, if the balancer hashes.</summary>
    public HashOnDocument? HashOn { get; }

    /// <summary>The validated policy (never null; empty when none was given).</summary>
    public PolicyDocument Policy { get; }

    /// <summary>The document the service was compiled from; the same object while the service is unchanged.</summary>
    internal ServiceDocument Source { get; }

    /// <summary>
    /// A content fingerprint of <see cref="Policy"/>: equal across snapshots while the policy text is equal, so
    /// extensions can keep per-service state (breakers, limiters) across unrelated changes.
    /// </summary>
    public string PolicyFingerprint { get; }
}
