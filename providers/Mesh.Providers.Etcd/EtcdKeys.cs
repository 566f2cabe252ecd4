namespace Mesh.Providers.Etcd;

/// <summary>The key layout of the public contract, under a prefix (default <c>/mesh</c>).</summary>
public static class EtcdKeys
{
    /// <summary>Key of an endpoint document: <c>{prefix}/services/{service}/endpoints/{id}</c>.</summary>
    public static string Endpoint(string prefix, string service, string id) => $"{Trim(prefix)}/services/{service}/endpoints/{id}";

    /// <summary>Key of a service policy: <c>{prefix}/services/{service}/policy</c>.</summary>
    public static string Policy(string prefix, string service) => $"{Trim(prefix)}/services/{service}/policy";

    /// <summary>Key of the mesh-wide settings: <c>{prefix}/config</c>.</summary>
    public static string Config(string prefix) => $"{Trim(prefix)}/config";

    /// <summary>The prefix with exactly one trailing slash, for range reads and watches.</summary>
    public static string Range(string prefix) => Trim(prefix) + "/";

    internal static string Trim(string prefix) => prefix.TrimEnd('/');
}
