using Mesh;
using Mesh.Providers.Etcd;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The whole mesh in one call, for apps that adopt the SDK: what the startup hook gives a host.</summary>
public static class StandardMeshServiceCollectionExtensions
{
    /// <summary>
    /// Adds the mesh as the startup hook adds it to a generic host: <c>AddMesh()</c> (rules from <c>MESH_CONFIG</c> or
    /// the <c>Mesh</c> configuration section), retry, timeouts, breakers and outlier ejection
    /// (<c>AddResilience()</c>), and the etcd provider when <c>MESH_ETCD_ENDPOINTS</c> is set (with the other
    /// <c>MESH_ETCD_*</c> variables). Web apps use <c>AddStandardWebMesh()</c> from Mesh.Hosting.AspNetCore, which adds
    /// the inbound parts and self-registration.
    /// </summary>
    public static IMeshBuilder AddStandardMesh(this IServiceCollection services, Action<MeshOptions>? configure = null)
    {
        var mesh = services.AddMesh(configure).AddResilience();
        if (EtcdEnvironment.ReadOptions() is not null)
        {
            mesh.AddEtcdProvider();
        }

        return mesh;
    }
}
