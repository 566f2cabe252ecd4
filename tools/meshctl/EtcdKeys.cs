namespace Mesh.Cli;

/// <summary>The etcd key layout of the mesh (see ARCHITECTURE.md), under a configurable prefix.</summary>
internal sealed class EtcdKeys
{
    public const string DefaultPrefix = "/mesh";

    public EtcdKeys(string prefix)
    {
        Prefix = prefix.TrimEnd('/');
    }

    public string Prefix { get; }

    public string Services => $"{Prefix}/services/";

    public string Config => $"{Prefix}/config";

    public string Service(string service) => $"{Services}{service}/";

    public string Policy(string service) => $"{Services}{service}/policy";

    public string Endpoints(string service) => $"{Services}{service}/endpoints/";

    public string Endpoint(string service, string id) => $"{Endpoints(service)}{id}";

    /// <summary>Splits a key under <see cref="Services"/> into service, kind (<c>policy</c>/<c>endpoints</c>) and id.</summary>
    public bool TryParse(string key, out string service, out string kind, out string? id)
    {
        service = kind = "";
        id = null;
        if (!key.StartsWith(Services, StringComparison.Ordinal))
        {
            return false;
        }

        var parts = key[Services.Length..].Split('/');
        switch (parts)
        {
            case [var s, "policy"]:
                (service, kind) = (s, "policy");
                return true;
            case [var s, "endpoints", var e] when e.Length > 0:
                (service, kind, id) = (s, "endpoints", e);
                return true;
            default:
                return false;
        }
    }
}
