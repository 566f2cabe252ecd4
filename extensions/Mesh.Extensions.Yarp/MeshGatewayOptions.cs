namespace Mesh.Extensions.Yarp;

/// <summary>Options of the mesh-fed YARP gateway.</summary>
public sealed class MeshGatewayOptions
{
    /// <summary>
    /// Path template of a service's route; <c>{service}</c> is replaced by the service name and the prefix before
    /// the catch-all is removed when forwarding. Default <c>/{service}/{**rest}</c>: <c>GET /orders/api/x</c> goes to
    /// <c>http://orders/api/x</c> through the mesh.
    /// </summary>
    public string PathPrefixTemplate { get; set; } = "/{service}";

    /// <summary>Services not exposed through the gateway (internal ones), by name.</summary>
    public ISet<string> ExcludedServices { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A cookie whose value selects the lane of the request at the edge (e.g. a gray-release cookie). Checked before
    /// <see cref="LaneFromHeader"/>. Null: not used.
    /// </summary>
    public string? LaneFromCookie { get; set; }

    /// <summary>A public request header whose value selects the lane. Null: not used.</summary>
    public string? LaneFromHeader { get; set; }

    /// <summary>
    /// The path of the meshed services' admin endpoint (<c>MeshAdminOptions.Path</c>), default <c>/mesh/admin</c>: a
    /// request that would be forwarded to it, or below it, is answered 404 and never forwarded (compared ignoring case,
    /// also with <c>%2F</c> decoded, <c>//</c> collapsed and a trailing slash dropped). The services' admin endpoints
    /// show their whole configuration, and the gateway's hop to them comes from an address they may trust.
    /// </summary>
    public string AdminPath { get; set; } = "/mesh/admin";

    /// <summary>Lanes callers may select; others are ignored (base lane). Empty: any lane.</summary>
    public ISet<string> AllowedLanes { get; } = new HashSet<string>(StringComparer.Ordinal);
}
