using System.Text.Json;

namespace Mesh.Configuration;

/// <summary>
/// Puts layered documents together, lowest layer first. The rule (also in the README): <c>mesh</c> settings field
/// by field, and <c>mesh.extensions</c> by extension name, each from the highest layer that sets it; services by
/// name; within a service, <c>endpoints</c> (the whole list) and <c>policy</c> (the whole policy) each from the
/// highest layer that defines it. So etcd can govern endpoints listed in the file, and removing a value from etcd
/// brings back the file's.
/// </summary>
internal static class MeshDocumentMerger
{
    /// <summary>Merges <paramref name="layers"/>, lowest first.</summary>
    /// <param name="layers">The documents of the layers.</param>
    /// <param name="previous">
    /// The last merge: a service merged from two layers whose endpoint list and policy are the same objects as in it
    /// is taken from it as it was, so the validator and compiler see an unchanged service as the same object.
    /// </param>
    public static MeshDocument Merge(IEnumerable<MeshDocument> layers, MeshDocument? previous = null)
    {
        MeshSettings? settings = null;
        Dictionary<string, ServiceDocument>? services = null;
        var shared = false;
        foreach (var layer in layers)
        {
            if (layer.Mesh is { } over)
            {
                settings = settings is null ? over : Merge(settings, over);
            }

            if (layer.Services is not { Count: > 0 } layerServices)
            {
                continue;
            }

            if (services is null)
            {
                // The usual case, one layer with services (etcd, or the file): its map as it is, not a copy of a
                // thousand entries per change. Documents are not changed once applied, so sharing it is safe.
                services = layerServices;
                shared = true;
                continue;
            }

            if (shared)
            {
                // Across layers a name is matched ignoring case, as hosts are: etcd's "ORDERS" governs the file's
                // "orders" rather than becoming a second service the router could not tell apart.
                var copy = new Dictionary<string, ServiceDocument>(services.Count, StringComparer.OrdinalIgnoreCase);
                foreach (var (name, service) in services)
                {
                    // Indexed, not added: a document applied in code may hold two spellings, which must not throw here.
                    copy[name] = service;
                }

                services = copy;
                shared = false;
            }

            foreach (var (name, service) in layerServices)
            {
                services[name] = services.TryGetValue(name, out var under) ? Combine(name, under, service, previous) : service;
            }
        }

        return new MeshDocument { Mesh = settings, Services = services };
    }

    private static ServiceDocument Combine(string name, ServiceDocument under, ServiceDocument over, MeshDocument? previous)
    {
        var endpoints = over.Endpoints ?? under.Endpoints;
        var policy = over.Policy ?? under.Policy;
        return previous?.Services?.TryGetValue(name, out var last) == true
            && ReferenceEquals(last.Endpoints, endpoints) && ReferenceEquals(last.Policy, policy)
            ? last
            : new ServiceDocument { Endpoints = endpoints, Policy = policy };
    }

    // Every MeshSettings property must appear here; MeshRuntimeLayerTests checks that by reflection.
    private static MeshSettings Merge(MeshSettings under, MeshSettings over) => new()
    {
        ServiceName = over.ServiceName ?? under.ServiceName,
        Enabled = over.Enabled ?? under.Enabled,
        LaneHeader = over.LaneHeader ?? under.LaneHeader,
        CallerHeader = over.CallerHeader ?? under.CallerHeader,
        Zone = over.Zone ?? under.Zone,
        CallerSigningKey = over.CallerSigningKey ?? under.CallerSigningKey,
        AuthorizationFailOpen = over.AuthorizationFailOpen ?? under.AuthorizationFailOpen,
        Extensions = Merge(under.Extensions, over.Extensions),
    };

    private static Dictionary<string, JsonElement>? Merge(Dictionary<string, JsonElement>? under, Dictionary<string, JsonElement>? over)
    {
        if (under is null || over is null)
        {
            return over ?? under;
        }

        var merged = new Dictionary<string, JsonElement>(under, StringComparer.Ordinal);
        foreach (var (name, settings) in over)
        {
            merged[name] = settings;
        }

        return merged;
    }
}
