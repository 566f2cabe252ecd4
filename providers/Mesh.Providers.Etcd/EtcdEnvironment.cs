using Mesh.Providers;

namespace Mesh.Providers.Etcd;

/// <summary>Reads the etcd provider's settings from the <c>MESH_ETCD_*</c> environment variables.</summary>
public static class EtcdEnvironment
{
    /// <summary>
    /// A source configured from the environment, or null when <c>MESH_ETCD_ENDPOINTS</c> is not set. The startup
    /// hook's entry into this component, which it loads in a context of its own: only contract types cross.
    /// </summary>
    public static IMeshConfigSource? CreateSource() => ReadOptions() is { } options ? new EtcdConfigSource(options) : null;

    /// <summary>Options from the environment, or null when <c>MESH_ETCD_ENDPOINTS</c> is not set.</summary>
    public static EtcdProviderOptions? ReadOptions()
    {
        var endpoints = Environment.GetEnvironmentVariable(MeshEnvironment.EtcdEndpoints);
        if (string.IsNullOrWhiteSpace(endpoints))
        {
            return null;
        }

        var options = new EtcdProviderOptions
        {
            Prefix = Environment.GetEnvironmentVariable(MeshEnvironment.EtcdPrefix) is { Length: > 0 } prefix ? prefix : EtcdKeys.DefaultPrefix,
            Username = Environment.GetEnvironmentVariable(MeshEnvironment.EtcdUsername),
            Password = Environment.GetEnvironmentVariable(MeshEnvironment.EtcdPassword),
            CaFile = Environment.GetEnvironmentVariable(MeshEnvironment.EtcdCaFile),
            CertFile = Environment.GetEnvironmentVariable(MeshEnvironment.EtcdCertFile),
            KeyFile = Environment.GetEnvironmentVariable(MeshEnvironment.EtcdKeyFile),
            CacheFile = Environment.GetEnvironmentVariable(MeshEnvironment.EtcdCacheFile),
            ScopeToCalledServices = string.Equals(Environment.GetEnvironmentVariable(MeshEnvironment.EtcdScope)?.Trim(), "called", StringComparison.OrdinalIgnoreCase),
        };
        foreach (var service in (Environment.GetEnvironmentVariable(MeshEnvironment.EtcdServices) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            options.Services.Add(service);
        }

        foreach (var endpoint in endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            options.Endpoints.Add(endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "http://" + endpoint);
        }

        return options;
    }
}
