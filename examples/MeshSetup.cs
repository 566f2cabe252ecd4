using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Examples;

/// <summary>How the meshed demo services join the mesh: the same code for both demo modes.</summary>
internal static class MeshSetup
{
    /// <summary>
    /// Rules from the file named by <c>MESH_CONFIG</c>, or, when <c>MESH_ETCD_ENDPOINTS</c> is set, from etcd, with
    /// the instance registering itself there (id, tags from <c>MESH_ENDPOINT_ID</c>, <c>MESH_ENDPOINT_TAGS</c>).
    /// </summary>
    public static IMeshBuilder AddDemoMesh(this IServiceCollection services)
    {
        var mesh = services.AddMesh().AddMeshInbound().AddResilience();
        return Environment.GetEnvironmentVariable("MESH_ETCD_ENDPOINTS") is { Length: > 0 }
            ? mesh.AddEtcdProvider().AddEtcdSelfRegistration()
            : mesh;
    }
}
