using Mesh.Extensibility;
using Mesh.Providers;
using Mesh.Runtime;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Mesh;

/// <summary>Starts the configuration sources and attaches the runtime to the listeners for the app's lifetime.</summary>
internal sealed class MeshHostedService(MeshRuntime runtime, IOptions<MeshOptions> options, IEnumerable<IMeshExtension> extensions, IServiceProvider services)
    : IHostedService
{
    private readonly List<IMeshConfigSource> _sources = [];
    private IDisposable? _attachment;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Extensions may take the runtime in their constructor, so they join it here, after both exist; with an
        // external runtime (the startup hook's) too, which already routes and whose sources are not ours to start.
        foreach (var extension in extensions.OrderBy(e => e.Order))
        {
            runtime.AddExtension(extension);
        }

        if (options.Value.ExternalRuntime is not null)
        {
            return;
        }

        var settings = options.Value;
        if (settings.ConfigPath is { Length: > 0 } path)
        {
            await StartSourceAsync(() => new JsonFileConfigSource(path), cancellationToken).ConfigureAwait(false);
        }

        foreach (var factory in settings.Sources)
        {
            await StartSourceAsync(() => factory(services), cancellationToken).ConfigureAwait(false);
        }

        _attachment = MeshAgent.Attach(runtime);
    }

    // A misconfigured source (no etcd endpoints, an unreadable CA file) must not keep the app from starting: the
    // mesh fails open, logged and counted, and the app runs on the other sources or unmeshed.
    private async Task StartSourceAsync(Func<IMeshConfigSource> create, CancellationToken cancellationToken)
    {
        IMeshConfigSource? source = null;
        try
        {
            source = create();
            await source.StartAsync(runtime, cancellationToken).ConfigureAwait(false);
            _sources.Add(source);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            runtime.ReportProviderFailure(source?.Name ?? "configuration source", ex);
            if (source is not null)
            {
                await source.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _attachment?.Dispose();
        foreach (var source in _sources)
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }

        _sources.Clear();
    }
}
