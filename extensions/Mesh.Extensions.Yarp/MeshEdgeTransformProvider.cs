using Mesh.Http;
using Mesh.Runtime;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Mesh.Extensions.Yarp;

/// <summary>
/// The edge's trust boundary, as a YARP request transform on every route: the lane, caller and caller-signature
/// headers a client sent are dropped (outsiders must not pick lanes or pose as services), the lane is set from the
/// gateway's own rule (<see cref="EdgeLaneRule"/>), and the request is tied to the gateway's runtime so the mesh
/// listener routes it on that runtime's rules.
/// </summary>
internal sealed class MeshEdgeTransformProvider(MeshRuntime runtime, EdgeLaneRule rule) : ITransformProvider
{
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
}
