using Mesh.Runtime;

namespace Mesh.Providers;

/// <summary>
/// A source of mesh configuration (the JSON file, etcd, ...). It feeds its layer of the runtime through
/// <see cref="MeshRuntime.Apply(Configuration.MeshDocument, string, Configuration.MeshConfigLayer)"/> and keeps doing
/// so as the configuration changes.
/// </summary>
public interface IMeshConfigSource : IAsyncDisposable
{
    /// <summary>A short description for logs, e.g. the file path or the etcd endpoints.</summary>
    string Name { get; }

    /// <summary>
    /// Loads the initial configuration into <paramref name="runtime"/> and starts following changes.
    /// Returns once the first load was attempted; a failure leaves the runtime on what it had.
    /// </summary>
    Task StartAsync(MeshRuntime runtime, CancellationToken cancellationToken);
}
