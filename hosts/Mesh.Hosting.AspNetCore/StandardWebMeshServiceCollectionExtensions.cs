using Mesh;
using Mesh.Providers.Etcd;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The whole mesh in one call, for ASP.NET Core apps that adopt the SDK: what the startup hook gives a web host.</summary>
public static class StandardWebMeshServiceCollectionExtensions
{
    /// <summary>
    /// Adds <c>AddStandardMesh()</c> (the mesh, resilience, etcd when <c>MESH_ETCD_ENDPOINTS</c> is set), the inbound
    /// context (lane, baggage and caller carried to the next hop), governance (rate limits, authorization, fault
    /// injection), and, for a named service (<c>MESH_SERVICE_NAME</c>) on etcd, self-registration unless
    /// <c>MESH_REGISTER=false</c>.
    /// </summary>
    public static IMeshBuilder AddStandardWebMesh(this IServiceCollection services, Action<MeshOptions>? configure = null)
    {
        var mesh = services.AddStandardMesh(configure).AddMeshInbound().AddGovernance();
        if (EtcdEnvironment.ReadOptions() is not null && !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(MeshEnvironment.ServiceName))
            && Environment.GetEnvironmentVariable(MeshEnvironment.Register) != "false")
        {
            mesh.AddEtcdSelfRegistration();
        }

        return mesh;
    }
}
