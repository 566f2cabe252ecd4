using Mesh.Http;
using Mesh.Runtime;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Mesh.Extensions.Yarp;

/// <summary>
/// The edge's trust boundary, as a YARP request transform on every route: the lane and caller headers a client sent
/// are dropped (outsiders must not pick lanes or pose as services), the lane is set from the gateway's own rule
/// (<see cref="MeshGatewayOptions.LaneFromCookie"/>, <see cref="MeshGatewayOptions.LaneFromHeader"/>), and the
/// request is tied to the gateway's runtime so the mesh listener routes it on that runtime's rules.
/// </summary>
internal sealed class MeshEdgeTransformProvider(MeshRuntime runtime, IOptions<MeshGatewayOptions> options) : ITransformProvider
{
    private readonly MeshGatewayOptions _options = options.Value;

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        context.AddRequestTransform(transform =>
        {
            var snapshot = runtime.Snapshot;
            var headers = transform.ProxyRequest.Headers;
            headers.Remove(snapshot.LaneHeader);
            headers.Remove(snapshot.CallerHeader);
            if (EdgeLane(transform.HttpContext.Request) is { } lane)
            {
                headers.TryAddWithoutValidation(snapshot.LaneHeader, lane);
            }

            transform.ProxyRequest.Options.Set(MeshRequestOptions.Runtime, runtime);
            return ValueTask.CompletedTask;
        });
    }

    private string? EdgeLane(Microsoft.AspNetCore.Http.HttpRequest request)
    {
        var lane = _options.LaneFromCookie is { } cookie && request.Cookies.TryGetValue(cookie, out var fromCookie) && fromCookie.Length > 0
            ? fromCookie
            : _options.LaneFromHeader is { } header && request.Headers[header].ToString() is { Length: > 0 } fromHeader ? fromHeader : null;
        return lane is not null && (_options.AllowedLanes.Count == 0 || _options.AllowedLanes.Contains(lane)) ? lane : null;
    }
}
