using Mesh;
using Mesh.Providers.Etcd;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>The whole mesh in one call, for ASP.NET Core apps that adopt the SDK: what the startup hook gives a web host.</summary>
public static class StandardWebMeshServiceCollectionExtensions
{
    /// <summary>
    /// Adds <c>AddStandardMesh()</c> (the mesh, resilience, etcd when <c>MESH_ETCD_ENDPOINTS</c> is set), the inbound
    /// context (lane, baggage and caller carried to the next hop), governance (rate limits, authorization, fault
    /// injection), and, on etcd, self-registration as this app's service unless <c>MESH_REGISTER=false</c>. What the
    /// startup hook reads beyond that (<c>MESH_EXTENSIONS_PATH</c>, <c>MESH_LOG_LEVEL</c>) is the app's own to add here
    /// (<c>AddExtension&lt;T&gt;()</c>, its logging).
    /// </summary>
    public static IMeshBuilder AddStandardWebMesh(this IServiceCollection services, Action<MeshOptions>? configure = null)
    {
        var mesh = services.AddStandardMesh(configure).AddStandardExtensions();
        // The service name may come from MESH_SERVICE_NAME, the Mesh section or configure: registration takes the
        // runtime's, and says so in the log when there is none.
        if (EtcdEnvironment.ReadOptions() is not null && Environment.GetEnvironmentVariable(MeshEnvironment.Register) != "false")
        {
            mesh.AddEtcdSelfRegistration();
        }

        return mesh;
    }

    /// <summary>
    /// The extensions of the standard web mesh, as the startup hook gives them to a web host too: resilience (retry,
    /// timeouts, breakers, outlier ejection), the inbound context, and governance (rate limits, authorization, fault
    /// injection). <see cref="Mesh.Hosting.StandardMeshValidator"/> checks documents with exactly their validators, so
    /// that offline validation (<c>meshctl</c>) and the runtime cannot drift apart.
    /// </summary>
    public static IMeshBuilder AddStandardExtensions(this IMeshBuilder mesh) => mesh.AddResilience().AddMeshInbound().AddGovernance();
}
