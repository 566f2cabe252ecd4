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

    /// <summary>User name for etcd authentication.</summary>
    public const string EtcdUsername = "MESH_ETCD_USERNAME";

    /// <summary>Password for etcd authentication.</summary>
    public const string EtcdPassword = "MESH_ETCD_PASSWORD";

    /// <summary>PEM file of the certificate authority that signed etcd's server certificate.</summary>
    public const string EtcdCaFile = "MESH_ETCD_CA_FILE";

    /// <summary>PEM client certificate for etcd (mutual TLS).</summary>
    public const string EtcdCertFile = "MESH_ETCD_CERT_FILE";

    /// <summary>PEM private key of the client certificate for etcd.</summary>
    public const string EtcdKeyFile = "MESH_ETCD_KEY_FILE";

    /// <summary>File where the last known etcd state is kept, so a restart during an etcd outage still routes.</summary>
    public const string EtcdCacheFile = "MESH_ETCD_CACHE_FILE";

    /// <summary>
    /// <c>called</c>: compile only the services this process calls (and its own, and those in
    /// <see cref="EtcdServices"/>), each from its first call; <c>all</c> (the default): every service under the prefix.
    /// </summary>
    public const string EtcdScope = "MESH_ETCD_SCOPE";

    /// <summary>Comma-separated services always compiled when <see cref="EtcdScope"/> is <c>called</c>.</summary>
    public const string EtcdServices = "MESH_ETCD_SERVICES";

    /// <summary><c>false</c> turns off etcd self-registration under the startup hook.</summary>
    public const string Register = "MESH_REGISTER";

    /// <summary>Id of this instance's endpoint in etcd (self-registration).</summary>
    public const string EndpointId = "MESH_ENDPOINT_ID";

    /// <summary>The address callers reach this instance at (self-registration).</summary>
    public const string AdvertiseAddress = "MESH_ADVERTISE_ADDRESS";

    /// <summary>Tags of this instance's endpoint, <c>version=v2,lane=gray</c> (self-registration).</summary>
    public const string EndpointTags = "MESH_ENDPOINT_TAGS";

    /// <summary>Weight of this instance's endpoint (self-registration).</summary>
    public const string EndpointWeight = "MESH_ENDPOINT_WEIGHT";

    /// <summary>The zone this instance runs in (self-registration).</summary>
    public const string Zone = "MESH_ZONE";

    /// <summary>Seconds the self-registration lease lives without keep-alive.</summary>
    public const string LeaseTtl = "MESH_LEASE_TTL";

    /// <summary>Seconds an instance keeps serving after deleting its endpoint on graceful stop.</summary>
    public const string DrainDelay = "MESH_DRAIN_DELAY";

    /// <summary>Minimum level of the startup hook's own log on stderr (a <c>LogLevel</c> name), <c>Warning</c> by default.</summary>
    public const string LogLevel = "MESH_LOG_LEVEL";
}
