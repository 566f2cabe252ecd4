using Mesh.Configuration;
using Mesh.LoadBalancing;
using Mesh.Model;
using Mesh.Runtime;

namespace Mesh.Routing;

/// <summary>
/// An immutable, fully compiled view of the mesh configuration. The runtime swaps whole snapshots atomically;
/// a request reads one snapshot once and routes on it without locks.
/// </summary>
public sealed class MeshSnapshot
{
    /// <summary>The lane header used when the configuration names none.</summary>
    public const string DefaultLaneHeader = "x-mesh-lane";

    /// <summary>The caller identity header used when the configuration names none.</summary>
    public const string DefaultCallerHeader = "x-mesh-caller";

    private readonly ServiceMap _services;

    internal MeshSnapshot(long version, MeshDocument document, ServiceMap services, string? serviceName, CallerSignature? callerSignature = null)
    {
        CallerSignature = callerSignature;
        Version = version;
        Document = document;
        _services = services;
        var settings = document.Mesh;
        Enabled = settings?.Enabled ?? true;
        LaneHeader = settings?.LaneHeader ?? DefaultLaneHeader;
        CallerHeader = settings?.CallerHeader ?? DefaultCallerHeader;
        CallerSignatureHeader = CallerHeader + "-signature";
        ServiceName = serviceName ?? settings?.ServiceName;
        Zone = settings?.Zone;
    }

    /// <summary>An empty, enabled snapshot: every request passes through.</summary>
    public static MeshSnapshot Empty { get; } = new(0, new MeshDocument(), ServiceMap.Empty, null);

    /// <summary>Increases by one with every applied change.</summary>
    public long Version { get; }

    /// <summary>The validated document the snapshot was compiled from.</summary>
    public MeshDocument Document { get; }

    /// <summary>Services by name (case-insensitive, as host names are).</summary>
    public IReadOnlyDictionary<string, MeshService> Services => _services;

    /// <summary>The services, for the compiler's next snapshot to share the index of.</summary>
    internal ServiceMap ServiceMap => _services;

    /// <summary>False turns the mesh into pass-through.</summary>
    public bool Enabled { get; }

    /// <summary>The header carrying the lane.</summary>
    public string LaneHeader { get; }

    /// <summary>The header carrying the caller's service name.</summary>
    public string CallerHeader { get; }

    /// <summary>The header carrying the signature of <see cref="CallerHeader"/>: its name with <c>-signature</c>.</summary>
    public string CallerSignatureHeader { get; }

    /// <summary>Signs and verifies caller headers; null when the mesh has no <c>callerSigningKey</c>.</summary>
    public CallerSignature? CallerSignature { get; }

    /// <summary>The name this process runs as.</summary>
    public string? ServiceName { get; }

    /// <summary>The zone this process runs in.</summary>
    public string? Zone { get; }

    /// <summary>Finds the service a host names, if it is a mesh service.</summary>
    public bool TryGetService(ReadOnlySpan<char> host, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MeshService? service)
        => _services.TryGetValue(host, out service);

    /// <summary>
    /// Routes one request: first matching route, weighted destination, lane filter with fallback, then the
    /// balancer's pick among available endpoints.
    /// </summary>
    /// <param name="host">The host the application called.</param>
    /// <param name="request">A view of the request.</param>
    /// <param name="lane">The request's lane, if any.</param>
    /// <param name="timestamp">Now, as <see cref="TimeProvider.GetTimestamp"/>.</param>
    /// <param name="excluded">Endpoints already tried by this call.</param>
    public RouteDecision Route<TRequest>(ReadOnlySpan<char> host, ref TRequest request, string? lane, long timestamp, IReadOnlyList<Endpoint>? excluded = null)
        where TRequest : struct, IRouteRequest
    {
        if (!Enabled || !_services.TryGetValue(host, out var service))
        {
            return RouteDecision.NotMeshed;
        }

        var first = service.RouteIndex.FindFirst(ref request, lane);
        var route = first < 0 ? service.DefaultRoute : service.Routes[first];

        var destination = route.PickDestination(lane);
        EndpointPicker? picker;
        if (destination.ExplicitPicker is not null)
        {
            picker = destination.ExplicitPicker;
        }
        else if (lane is not null && destination.LanePickers.TryGetValue(lane, out var lanePicker))
        {
            picker = lanePicker;
        }
        else if (lane is not null && service.RejectMissingLane)
        {
            return RouteDecision.Failed(RouteStatus.LaneRejected, service, route, lane,
                $"service '{service.Name}' has no endpoint in lane '{lane}' for route '{route.Name}', and its lane fallback is 'reject'");
        }
        else
        {
            picker = destination.BasePicker;
        }

        if (picker is null)
        {
            return RouteDecision.Failed(RouteStatus.NoEndpoint, service, route, lane,
                $"service '{service.Name}' has no endpoint for route '{route.Name}' (subset: {destination.Describe()}, lane: {lane ?? "base"})");
        }

        var hashKey = service.HashOn is { } hashOn ? HashKey(ref request, hashOn) : default;
        var context = new PickContext(timestamp, hashKey, excluded);
        var endpoint = picker.PickAvailable(context) ?? Failover(service, route, lane, context) ?? picker.Pick(context);
        return endpoint is null
            ? RouteDecision.Failed(RouteStatus.NoEndpoint, service, route, lane, $"service '{service.Name}' has no endpoint to pick")
            : RouteDecision.Routed(service, route, endpoint, lane);
    }

    // The chosen destination has no healthy, untried endpoint (ejected, or tried by an earlier attempt of this
    // call): availability outranks the route's split, so look in the route's other destinations — the lane's
    // endpoints first, then, unless the lane rejects, the base lane's — before sending to an unhealthy one.
    private static Endpoint? Failover(MeshService service, CompiledRoute route, string? lane, in PickContext context)
    {
        foreach (var destination in route.Destinations)
        {
            var picker = destination.ExplicitPicker
                ?? (lane is not null && destination.LanePickers.TryGetValue(lane, out var lanePicker) ? lanePicker : null);
            if (picker?.PickAvailable(context) is { } endpoint)
            {
                return endpoint;
            }
        }

        if (lane is not null && service.RejectMissingLane)
        {
            return null;
        }

        foreach (var destination in route.Destinations)
        {
            if (destination.ExplicitPicker is null && destination.BasePicker?.PickAvailable(context) is { } endpoint)
            {
                return endpoint;
            }
        }

        return null;
    }

    private static ReadOnlySpan<char> HashKey<TRequest>(ref TRequest request, HashOnDocument hashOn)
        where TRequest : struct, IRouteRequest
    {
        ReadOnlySpan<char> value;
        var found = hashOn.Header is { } header ? request.TryGetHeader(header, out value)
            : hashOn.Cookie is { } cookie ? request.TryGetCookie(cookie, out value)
            : request.TryGetQuery(hashOn.Query!, out value);
        return found ? value : default;
    }
}
