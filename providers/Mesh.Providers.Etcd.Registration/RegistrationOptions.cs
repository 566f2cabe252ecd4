namespace Mesh.Providers.Etcd.Registration;

/// <summary>How this app registers itself as an endpoint of its service.</summary>
public sealed class RegistrationOptions
{
    /// <summary>The service to register under; the mesh's service name when unset.</summary>
    public string? ServiceName { get; set; }

    /// <summary>Endpoint id, unique in the service (<c>MESH_ENDPOINT_ID</c>); host name and port when unset.</summary>
    public string? EndpointId { get; set; }

    /// <summary>Address others call (<c>MESH_ADVERTISE_ADDRESS</c>); the server's bound address when unset, with 127.0.0.1 for wildcard hosts.</summary>
    public string? AdvertiseAddress { get; set; }

    /// <summary>Tags such as <c>lane=gray,version=v2</c> (<c>MESH_ENDPOINT_TAGS</c>).</summary>
    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

    /// <summary>Weight (<c>MESH_ENDPOINT_WEIGHT</c>).</summary>
    public int? Weight { get; set; }

    /// <summary>Zone (<c>MESH_ZONE</c>).</summary>
    public string? Zone { get; set; }

    /// <summary>Lease time to live (<c>MESH_LEASE_TTL</c>, seconds): a crashed instance disappears after it.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the app keeps serving after deregistering, while callers converge (<c>MESH_DRAIN_DELAY</c>, seconds).
    /// </summary>
    public TimeSpan DrainDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Reads the <c>MESH_*</c> variables over the defaults.</summary>
    public static RegistrationOptions FromEnvironment()
    {
        var options = new RegistrationOptions
        {
            ServiceName = Environment.GetEnvironmentVariable(MeshEnvironment.ServiceName),
            EndpointId = Environment.GetEnvironmentVariable(MeshEnvironment.EndpointId),
            AdvertiseAddress = Environment.GetEnvironmentVariable(MeshEnvironment.AdvertiseAddress),
            Zone = Environment.GetEnvironmentVariable(MeshEnvironment.Zone),
        };
        if (int.TryParse(Environment.GetEnvironmentVariable(MeshEnvironment.EndpointWeight), System.Globalization.CultureInfo.InvariantCulture, out var weight))
        {
            options.Weight = weight;
        }

        if (double.TryParse(Environment.GetEnvironmentVariable(MeshEnvironment.LeaseTtl), System.Globalization.CultureInfo.InvariantCulture, out var ttl))
        {
            options.LeaseTtl = TimeSpan.FromSeconds(ttl);
        }

        if (double.TryParse(Environment.GetEnvironmentVariable(MeshEnvironment.DrainDelay), System.Globalization.CultureInfo.InvariantCulture, out var drain))
        {
            options.DrainDelay = TimeSpan.FromSeconds(drain);
        }

        foreach (var pair in (Environment.GetEnvironmentVariable(MeshEnvironment.EndpointTags) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                options.Tags[pair[..eq]] = pair[(eq + 1)..];
            }
        }

        return options;
    }
}
