namespace Mesh;

/// <summary>The environment variables of the public contract.</summary>
public static class MeshEnvironment
{
    /// <summary>Path of the embedded JSON configuration file.</summary>
    public const string Config = "MESH_CONFIG";

    /// <summary>The name this process runs as.</summary>
    public const string ServiceName = "MESH_SERVICE_NAME";

    /// <summary><c>true</c> for an app at the edge of the mesh, where lane and caller headers are removed.</summary>
    public const string Ingress = "MESH_INGRESS";

    /// <summary>Comma-separated etcd endpoints.</summary>
    public const string EtcdEndpoints = "MESH_ETCD_ENDPOINTS";

    /// <summary>The etcd key prefix, <c>/mesh</c> by default.</summary>
    public const string EtcdPrefix = "MESH_ETCD_PREFIX";
}
