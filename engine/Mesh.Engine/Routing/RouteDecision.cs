using Mesh.Model;

namespace Mesh.Routing;

/// <summary>What the router decided for one request. Expected failures are values, not exceptions.</summary>
public readonly struct RouteDecision
{
    private RouteDecision(RouteStatus status, MeshService? service, CompiledRoute? route, Endpoint? endpoint, string? lane, string? reason)
    {
        Status = status;
        Service = service;
        Route = route;
        Endpoint = endpoint;
        Lane = lane;
        Reason = reason;
    }

    /// <summary>The kind of decision.</summary>
    public RouteStatus Status { get; }

    /// <summary>The service the request is for; null when the host is not a mesh service.</summary>
    public MeshService? Service { get; }

    /// <summary>The route that matched.</summary>
    public CompiledRoute? Route { get; }

    /// <summary>The picked endpoint, when <see cref="Status"/> is <see cref="RouteStatus.Routed"/>.</summary>
    public Endpoint? Endpoint { get; }

    /// <summary>The lane the request runs in, if any.</summary>
    public string? Lane { get; }

    /// <summary>Why no endpoint was picked, in words.</summary>
    public string? Reason { get; }

    internal static RouteDecision NotMeshed => default;

    internal static RouteDecision Routed(MeshService service, CompiledRoute route, Endpoint endpoint, string? lane)
        => new(RouteStatus.Routed, service, route, endpoint, lane, null);

    internal static RouteDecision Failed(RouteStatus status, MeshService service, CompiledRoute? route, string? lane, string reason)
        => new(status, service, route, null, lane, reason);
}

/// <summary>Kinds of routing decisions.</summary>
public enum RouteStatus
{
    /// <summary>Not a mesh service (or the mesh is disabled): the request goes out untouched.</summary>
    NotMeshed,

    /// <summary>An endpoint was picked.</summary>
    Routed,

    /// <summary>The service is known but has no endpoint to send to.</summary>
    NoEndpoint,

    /// <summary>The request's lane has no endpoint and the policy rejects instead of falling back.</summary>
    LaneRejected,
}
