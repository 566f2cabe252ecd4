using Mesh.Configuration;

namespace Mesh.Providers.Etcd;

/// <summary>
/// The key layout of the public contract under a prefix (default <c>/mesh</c>): <c>{prefix}/config</c>,
/// <c>{prefix}/services/{service}/policy</c> and <c>{prefix}/services/{service}/endpoints/{id}</c>. The provider,
/// self-registration and meshctl all use this one definition.
/// </summary>
public sealed class EtcdKeys
{
    /// <summary>The prefix used when none is configured.</summary>
    public const string DefaultPrefix = "/mesh";

    /// <summary>Creates the layout under <paramref name="prefix"/> (trailing slashes ignored).</summary>
    public EtcdKeys(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        Prefix = prefix.TrimEnd('/');
    }

    /// <summary>The prefix without a trailing slash.</summary>
    public string Prefix { get; }

    /// <summary>The prefix with one trailing slash: the range every mesh key is under.</summary>
    public string Range => Prefix + "/";

    /// <summary>The range every service key is under.</summary>
    public string Services => Prefix + "/services/";

    /// <summary>Key of the mesh-wide settings.</summary>
    public string Config => Prefix + "/config";

    /// <summary>The range of one service's keys.</summary>
    public string Service(string service) => $"{Services}{service}/";

    /// <summary>Key of a service policy.</summary>
    public string Policy(string service) => $"{Services}{service}/policy";

    /// <summary>The range of one service's endpoint keys.</summary>
    public string Endpoints(string service) => $"{Services}{service}/endpoints/";

    /// <summary>Key of an endpoint document.</summary>
    public string Endpoint(string service, string id) => $"{Endpoints(service)}{id}";

    /// <summary>What a key under the prefix names; <see cref="EtcdKeyKind.Unknown"/> for anything else.</summary>
    public EtcdKey Parse(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!key.StartsWith(Range, StringComparison.Ordinal))
        {
            return default;
        }

        return key[Range.Length..].Split('/') switch
        {
            ["config"] => new(EtcdKeyKind.Config, null, null),
            ["services", var service, "policy"] when MeshValidator.IsValidServiceName(service) => new(EtcdKeyKind.Policy, service, null),
            ["services", var service, "endpoints", var id] when MeshValidator.IsValidServiceName(service) && id.Length > 0 => new(EtcdKeyKind.Endpoint, service, id),
            _ => default,
        };
    }
}

/// <summary>What a mesh key names.</summary>
public enum EtcdKeyKind
{
    /// <summary>Not a mesh key.</summary>
    Unknown,

    /// <summary>The mesh-wide settings.</summary>
    Config,

    /// <summary>A service policy.</summary>
    Policy,

    /// <summary>An endpoint document.</summary>
    Endpoint,
}

/// <summary>A parsed mesh key.</summary>
/// <param name="Kind">What the key names.</param>
/// <param name="Service">The service, for policy and endpoint keys.</param>
/// <param name="Id">The endpoint id, for endpoint keys.</param>
public readonly record struct EtcdKey(EtcdKeyKind Kind, string? Service, string? Id);
