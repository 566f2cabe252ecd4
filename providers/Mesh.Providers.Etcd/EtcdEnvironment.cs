namespace Mesh.Providers.Etcd;

/// <summary>Reads the etcd provider's settings from the <c>MESH_ETCD_*</c> environment variables.</summary>
public static class EtcdEnvironment
{
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
            Username = Environment.GetEnvironmentVariable("MESH_ETCD_USERNAME"),
            Password = Environment.GetEnvironmentVariable("MESH_ETCD_PASSWORD"),
            CaFile = Environment.GetEnvironmentVariable("MESH_ETCD_CA_FILE"),
            CertFile = Environment.GetEnvironmentVariable("MESH_ETCD_CERT_FILE"),
            KeyFile = Environment.GetEnvironmentVariable("MESH_ETCD_KEY_FILE"),
            CacheFile = Environment.GetEnvironmentVariable("MESH_ETCD_CACHE_FILE"),
        };
        foreach (var endpoint in endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            options.Endpoints.Add(endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "http://" + endpoint);
        }

        return options;
    }
}
