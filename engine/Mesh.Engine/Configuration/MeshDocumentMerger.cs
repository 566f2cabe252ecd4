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
    public static MeshDocument Merge(IEnumerable<MeshDocument> layers)
    {
        MeshSettings? settings = null;
        Dictionary<string, ServiceDocument>? services = null;
        foreach (var layer in layers)
        {
            if (layer.Mesh is { } over)
            {
                settings = settings is null ? over : Merge(settings, over);
            }

            foreach (var (name, service) in layer.Services ?? [])
            {
                services ??= new Dictionary<string, ServiceDocument>(StringComparer.Ordinal);
                services[name] = services.TryGetValue(name, out var under)
                    ? new ServiceDocument { Endpoints = service.Endpoints ?? under.Endpoints, Policy = service.Policy ?? under.Policy }
                    : service;
            }
        }

        return new MeshDocument { Mesh = settings, Services = services };
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
