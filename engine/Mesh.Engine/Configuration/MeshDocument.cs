using System.Text.Json;

namespace Mesh.Configuration;

/// <summary>
/// The whole mesh configuration: the shape of the embedded <c>mesh.json</c> file and the union of the
/// etcd documents. Field names are part of the public contract.
/// </summary>
public sealed class MeshDocument
{
    /// <summary>Mesh-wide settings (<c>/mesh/config</c> in etcd).</summary>
    public MeshSettings? Mesh { get; set; }

    /// <summary>Services by logical name, the host that applications call (<c>http://orders/...</c>).</summary>
    public Dictionary<string, ServiceDocument>? Services { get; set; }
}

/// <summary>Mesh-wide settings.</summary>
public sealed class MeshSettings
{
    /// <summary>The name of the service this process runs as; stamped as the caller identity.</summary>
    public string? ServiceName { get; set; }

    /// <summary>When false every call passes through untouched; switchable at runtime.</summary>
    public bool? Enabled { get; set; }

    /// <summary>The header that carries the lane of a request across hops. Default <c>x-mesh-lane</c>.</summary>
    public string? LaneHeader { get; set; }

    /// <summary>The header that carries the calling service's name. Default <c>x-mesh-caller</c>.</summary>
    public string? CallerHeader { get; set; }

    /// <summary>The zone this process runs in, used by the <c>zoneAware</c> balancer.</summary>
    public string? Zone { get; set; }

    /// <summary>
    /// A secret shared by the services of the mesh (at least 16 characters). When set, callers sign the caller
    /// header (HMAC-SHA256 with a timestamp) and receivers trust a caller name only with a valid signature.
    /// </summary>
    public string? CallerSigningKey { get; set; }

    /// <summary>
    /// What a service does with requests when its caller authorization (<c>policy.extensions.authorization</c>) could not
    /// be loaded, being invalid: refuse them (403), the default, or with <c>true</c> let them through unchecked.
    /// </summary>
    public bool? AuthorizationFailOpen { get; set; }

    /// <summary>Settings of extensions that apply mesh-wide, by extension name.</summary>
    public Dictionary<string, JsonElement>? Extensions { get; set; }
}

/// <summary>One logical service: its endpoints and the policy for calls to it.</summary>
public sealed class ServiceDocument
{
    /// <summary>The instances of the service.</summary>
    public List<EndpointDocument>? Endpoints { get; set; }

    /// <summary>The policy for calls to the service (<c>/mesh/services/{service}/policy</c> in etcd).</summary>
    public PolicyDocument? Policy { get; set; }
}

/// <summary>One instance of a service (<c>/mesh/services/{service}/endpoints/{id}</c> in etcd).</summary>
public sealed class EndpointDocument
{
    /// <summary>Unique within the service.</summary>
    public string? Id { get; set; }

    /// <summary>Absolute <c>http</c> or <c>https</c> address, e.g. <c>http://127.0.0.1:5001</c>.</summary>
    public string? Address { get; set; }

    /// <summary>Relative weight, 0 or more; 100 when absent.</summary>
    public int? Weight { get; set; }

    /// <summary>The zone the instance runs in.</summary>
    public string? Zone { get; set; }

    /// <summary>Free-form labels; <c>lane</c> puts the instance in a lane.</summary>
    public Dictionary<string, string>? Tags { get; set; }

    /// <summary>When the instance started serving; drives the warm-up weight ramp.</summary>
    public DateTimeOffset? StartedAt { get; set; }
}
