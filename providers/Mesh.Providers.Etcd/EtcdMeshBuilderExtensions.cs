using Mesh.Providers.Etcd;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the etcd provider.</summary>
public static class EtcdMeshBuilderExtensions
{
    /// <summary>
    /// Reads the mesh configuration from etcd. Without <paramref name="configure"/>, or for what it leaves unset,
    /// the <c>MESH_ETCD_*</c> environment variables apply.
    /// </summary>
    public static IMeshBuilder AddEtcdProvider(this IMeshBuilder builder, Action<EtcdProviderOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = EtcdEnvironment.ReadOptions() ?? new EtcdProviderOptions();
        configure?.Invoke(options);
        builder.Services.Configure<Mesh.MeshOptions>(mesh => mesh.Sources.Add(_ => new EtcdConfigSource(options)));
        return builder;
    }
}
