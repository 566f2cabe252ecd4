using Mesh.Model;
using Mesh.Routing;

namespace Mesh.Extensibility;

/// <summary>
/// Joins routing before the balancer picks: excludes endpoints of the called service for one request (by tag, by a
/// request header, ...). An excluded endpoint is avoided like one this call already tried: the balancer picks among
/// the others, and only when the filters leave nothing does it fall back to an excluded one, so a filter narrows the
/// choice but never makes a call fail. A filter that throws is logged, counted and skipped for that request.
/// </summary>
public interface IRouteFilter : IMeshExtension
{
    /// <summary>
    /// Whether <paramref name="endpoint"/> of <paramref name="service"/> must not take <paramref name="request"/>.
    /// Asked for every endpoint of the service each time a request (or a retry of it) is routed, on the request's
    /// thread: keep it fast, thread-safe and free of allocations.
    /// </summary>
    bool Excludes<TRequest>(MeshService service, Endpoint endpoint, ref TRequest request)
        where TRequest : struct, IRouteRequest;
}
