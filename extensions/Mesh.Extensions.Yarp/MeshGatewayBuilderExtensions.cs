using Mesh.Extensions.Yarp;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the mesh-fed YARP gateway.</summary>
public static class MeshGatewayBuilderExtensions
{
    /// <summary>
    /// Adds YARP with routes and clusters from the mesh (one per service, <c>/{service}/**</c>) and the edge
    /// trust boundary: client lane/caller headers stripped, the lane set from the gateway's rule, both on the proxied
    /// request (a YARP transform) and in the mesh context (an inbound extension). Map it with
    /// <c>app.MapReverseProxy()</c>.
    /// </summary>
    public static IReverseProxyBuilder AddMeshGateway(this IMeshBuilder builder, Action<MeshGatewayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<MeshGatewayOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.AddSingleton<IProxyConfigProvider, MeshProxyConfigProvider>();
        builder.Services.TryAddSingleton<EdgeLaneRule>();
        builder.AddMeshInbound().AddExtension<MeshEdgeContextExtension>();
        return builder.Services.AddReverseProxy().AddTransforms<MeshEdgeTransformProvider>();
    }
}
