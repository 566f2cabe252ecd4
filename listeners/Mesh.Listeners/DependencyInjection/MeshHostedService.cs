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
    private IDisposable? _detachAtStop;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Extensions may take the runtime in their constructor, so they join it here, after both exist; with an
        // external runtime (the startup hook's) too, which already routes and whose sources are not ours to start.
        // An extension that could not be constructed is null here, and was reported (IsolatedExtension).
        foreach (var extension in extensions.Where(e => e is not null).OrderBy(e => e.Order))
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
            await StartSourceAsync(path, () => new JsonFileConfigSource(path), cancellationToken).ConfigureAwait(false);
        }

        foreach (var factory in settings.Sources)
        {
            await StartSourceAsync("configuration source", () => factory(services), cancellationToken).ConfigureAwait(false);
        }

        // Attached until the host has stopped, not merely until this service stops: a web host's server stops after
        // it and drains the requests in flight, whose calls must still be routed. Without a host lifetime (a service
        // started on its own) this service's stop detaches it.
        var attachment = MeshAgent.Attach(runtime);
        if (services.GetService(typeof(IHostApplicationLifetime)) is IHostApplicationLifetime lifetime)
        {
            lifetime.ApplicationStopped.Register(static attachment => ((IDisposable)attachment!).Dispose(), attachment);
        }
        else
        {
            _detachAtStop = attachment;
        }
    }

    // Each source is awaited in full, so the app's first calls see every source that started; one that fails is
    // reported and left out (see ConfigSourceStarter) rather than failing the host.
    private async Task StartSourceAsync(string name, Func<IMeshConfigSource> create, CancellationToken cancellationToken)
    {
        if (await ConfigSourceStarter.StartAsync(runtime, name, create, cancellationToken).ConfigureAwait(false) is { } source)
        {
            _sources.Add(source);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _detachAtStop?.Dispose();
        foreach (var source in _sources)
        {
            await source.DisposeAsync().ConfigureAwait(false);
        }

        _sources.Clear();
    }
}
