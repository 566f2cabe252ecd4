using Mesh.AspNetCore;
using Mesh.Http;
using Mesh.Runtime;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Mesh.Extensions.Yarp;

/// <summary>
/// The edge's trust boundary, as a YARP request transform on every route: the lane, caller and caller-signature
/// headers a client sent are dropped (outsiders must not pick lanes or pose as services), the lane is set from the
/// gateway's own rule (<see cref="EdgeLaneRule"/>), and the request is tied to the gateway's runtime so the mesh
/// listener routes it on that runtime's rules. A request whose forwarded path is the services' admin endpoint
/// (<see cref="MeshGatewayOptions.AdminPath"/>) is answered 404 instead of forwarded.
/// </summary>
internal sealed class MeshEdgeTransformProvider(MeshRuntime runtime, EdgeLaneRule rule, IOptions<MeshGatewayOptions> options) : ITransformProvider
{
    private readonly string _adminPath = options.Value.AdminPath.TrimEnd('/');

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
            // The path as it will be forwarded (the route's prefix removed): a response set here is the answer, and
            // YARP forwards nothing.
            if (IsAdminPath(transform.Path.Value ?? "/"))
            {
                transform.HttpContext.Response.StatusCode = StatusCodes.Status404NotFound;
                return ValueTask.CompletedTask;
            }

            var snapshot = runtime.Snapshot;
            var headers = transform.ProxyRequest.Headers;
            headers.Remove(snapshot.LaneHeader);
            headers.Remove(snapshot.CallerHeader);
            // A client-sent signature would be sent alongside the one the mesh adds for the gateway's own caller
            // identity, and the receiver rejects a header with two values (403).
            headers.Remove(snapshot.CallerSignatureHeader);
            if (rule.LaneOf(transform.HttpContext.Request) is { } lane)
            {
                headers.TryAddWithoutValidation(snapshot.LaneHeader, lane);
            }

            transform.ProxyRequest.Options.Set(MeshRequestOptions.Runtime, runtime);
            return ValueTask.CompletedTask;
        });
    }

    private bool IsAdminPath(string path)
        => Under(path, _adminPath) || (InboundRequestView.AlternatePath(path) is { } alternate && Under(alternate, _adminPath));

    private static bool Under(string path, string prefix)
        => path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && (path.Length == prefix.Length || path[prefix.Length] == '/');
}
