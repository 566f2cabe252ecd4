using Mesh;
using Mesh.Providers.Etcd;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

[assembly: HostingStartup(typeof(Mesh.StartupHook.AspNetCore.MeshHostingStartup))]

namespace Mesh.StartupHook.AspNetCore;

/// <summary>
/// Enabled by the startup hook in ASP.NET Core apps (<c>ASPNETCORE_HOSTINGSTARTUPASSEMBLIES</c>): joins the app's
/// services to the hook's runtime, so inbound requests restore the mesh context and <c>IHttpClientFactory</c>
/// clients get the resilience handler, without code in the app.
/// </summary>
public sealed class MeshHostingStartup : IHostingStartup
{
    /// <inheritdoc />
    public void Configure(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (MeshAgent.Default is not { } runtime)
        {
            return;
        }

        builder.ConfigureServices(services =>
        {
            var mesh = services.AddMesh(options => options.ExternalRuntime = runtime);

            // First the instances the hook made (its outlier detector, extensions from MESH_EXTENSIONS_PATH), so
            // that the app's pipelines and the runtime share one instance of each extension type.
            foreach (var extension in runtime.Extensions)
            {
                mesh.AddExtension(extension);
            }

            mesh.AddMeshInbound().AddResilience().AddGovernance();

            // A named service on etcd registers itself, so callers find it without anyone writing its address.
            if (EtcdEnvironment.ReadOptions() is not null && runtime.Options.ServiceName is not null
                && Environment.GetEnvironmentVariable(MeshEnvironment.Register) != "false")
            {
                mesh.AddEtcdSelfRegistration();
            }
        });
    }
}
