using System.Diagnostics.CodeAnalysis;
using Mesh.Extensibility;
using Mesh.Routing;
using Mesh.Runtime;

namespace Mesh.Extensions.Governance;

/// <summary>
/// An inbound extension's settings, read from the policy of the service this app runs as (<c>mesh.serviceName</c>):
/// inbound governance is configured by the called service, not the caller.
/// </summary>
internal sealed class OwnServiceSettings<T>(MeshRuntime runtime, string extension, ExtensionSettings<T> settings)
    where T : class
{
    /// <summary>
    /// Whether settings are in force; <paramref name="service"/> is this app's service whenever the mesh knows it,
    /// with or without settings.
    /// </summary>
    public bool TryGet([NotNullWhen(true)] out MeshService? service, [NotNullWhen(true)] out T? current) => TryGet(out service, out current, out _);

    /// <summary>
    /// As <see cref="TryGet(out MeshService?, out T?)"/>; <paramref name="invalid"/> when the service's settings are
    /// there but unusable (see <see cref="ExtensionSettings{T}.For(MeshService, out bool)"/>), or none are in force
    /// because the ones offered were refused (<see cref="MeshRuntime.RefusedSettings"/>), even before the mesh knew
    /// the service at all.
    /// </summary>
    public bool TryGet([NotNullWhen(true)] out MeshService? service, [NotNullWhen(true)] out T? current, out bool invalid)
    {
        var snapshot = runtime.Snapshot;
        var name = snapshot.ServiceName ?? runtime.Options.ServiceName;

        // SnapshotFor: a source that compiles only the services in use takes this app's own in on its first request.
        service = name is not null && runtime.SnapshotFor(name).Services.TryGetValue(name, out var own) ? own : null;
        invalid = false;
        current = service is null ? null : settings.For(service, out invalid);
        invalid |= current is null && name is not null && runtime.RefusedSettings.IsRefused(name, extension);
        return current is not null;
    }
}
