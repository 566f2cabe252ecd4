using Mesh.Providers;
using Mesh.Runtime;

namespace Mesh;

/// <summary>
/// How every host of the mesh (<c>AddMesh()</c>'s hosted service, the startup hook) brings up one configuration
/// source: a misconfigured source (an unreadable CA file, a malformed <c>MESH_ETCD_*</c> value) must not keep the
/// app from starting nor take the other sources down with it. Its failure is logged and counted, naming the source
/// and the reason, and the mesh goes on with the other sources, or unmeshed.
/// </summary>
internal static class ConfigSourceStarter
{
    /// <summary>
    /// Builds a source with <paramref name="create"/> and starts it. The returned task never faults, except when
    /// <paramref name="cancellationToken"/> is cancelled: it completes with the started source, which the caller
    /// owns, or with null when building or starting failed (reported, and what was built disposed). A caller that
    /// stops waiting early leaves the routine running: a later failure is reported when it happens.
    /// </summary>
    /// <param name="runtime">The runtime the source feeds and failures are reported to.</param>
    /// <param name="name">What the source is called in the report when it fails before it exists.</param>
    /// <param name="create">Builds the source; whatever it throws is a failure of this source alone.</param>
    /// <param name="cancellationToken">Cancels the start (the host's start-up being cancelled).</param>
    public static async Task<IMeshConfigSource?> StartAsync(MeshRuntime runtime, string name, Func<IMeshConfigSource> create, CancellationToken cancellationToken)
    {
        IMeshConfigSource? source = null;
        try
        {
            source = create();
            await source.StartAsync(runtime, cancellationToken).ConfigureAwait(false);
            return source;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            runtime.ReportProviderStartFailure(source?.Name ?? name, ex);
        }

        if (source is null)
        {
            return null;
        }

        // It may have opened channels or timers before it failed.
        try
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            runtime.ReportProviderStartFailure(source.Name, ex);
        }

        return null;
    }
}
