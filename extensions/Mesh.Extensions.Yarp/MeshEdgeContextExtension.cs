using Mesh.AspNetCore;
using Mesh.Runtime;
using Microsoft.AspNetCore.Http;

namespace Mesh.Extensions.Yarp;

/// <summary>
/// Replaces the mesh context the inbound middleware restored from the client's headers with the edge's own: the
/// lane from <see cref="EdgeLaneRule"/>, no caller, no baggage. Without it, a client-sent <c>x-mesh-lane</c> would
/// still steer the gateway's outbound call through the context, even though the header itself is stripped.
/// </summary>
internal sealed class MeshEdgeContextExtension(EdgeLaneRule rule) : IInboundExtension
{
    public string Name => "gateway-edge";

    // Right after the admin endpoint, before any extension that reads the context.
    public int Order => int.MinValue + 1;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var lane = rule.LaneOf(context.Request);
        using var scope = MeshContext.Use(lane is null ? null : new MeshContext(lane));
        await next(context).ConfigureAwait(false);
    }
}
