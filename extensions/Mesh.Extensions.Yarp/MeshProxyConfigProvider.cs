using Mesh.Routing;
using Mesh.Runtime;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace Mesh.Extensions.Yarp;

/// <summary>
/// YARP configuration from the mesh snapshot: per service one route (<c>/{service}/**</c>) and one cluster whose single
/// destination is <c>http://{service}/</c>. YARP's forwarder sends through <c>SocketsHttpHandler</c>, whose
/// diagnostic events the mesh listener handles, so the mesh — not YARP — picks the endpoint, with routes, lanes,
/// outlier ejection and warm-up. Rebuilt when a snapshot changes the set of services.
/// </summary>
internal sealed class MeshProxyConfigProvider : IProxyConfigProvider, IDisposable
{
    private readonly MeshRuntime _runtime;
    private readonly MeshGatewayOptions _options;
    private readonly Lock _gate = new();
    private MeshProxyConfig _config;

    public MeshProxyConfigProvider(MeshRuntime runtime, IOptions<MeshGatewayOptions> options)
    {
        _runtime = runtime;
        _options = options.Value;
        _config = Build(runtime.Snapshot);
        runtime.SnapshotChanged += OnSnapshotChanged;
    }

    public IProxyConfig GetConfig() => Volatile.Read(ref _config);

    public void Dispose() => _runtime.SnapshotChanged -= OnSnapshotChanged;

    private void OnSnapshotChanged(object? sender, MeshSnapshot snapshot)
    {
        MeshProxyConfig previous;
        lock (_gate)
        {
            var next = Build(snapshot);
            if (next.Enabled == _config.Enabled && next.Services.SetEquals(_config.Services))
            {
                // Same services: YARP's routes and clusters are unchanged, the mesh already routes on the new rules.
                return;
            }

            previous = _config;
            Volatile.Write(ref _config, next);
        }

        previous.SignalChange();
    }

    private MeshProxyConfig Build(MeshSnapshot snapshot)
    {
        var services = snapshot.Services.Keys.Where(s => !_options.ExcludedServices.Contains(s)).Order(StringComparer.Ordinal).ToArray();
        var routes = new List<RouteConfig>(services.Length);
        var clusters = new List<ClusterConfig>(services.Length);
        foreach (var service in services)
        {
            var prefix = _options.PathPrefixTemplate.Replace("{service}", service, StringComparison.Ordinal);
            routes.Add(new RouteConfig
            {
                RouteId = $"mesh-{service}",
                ClusterId = $"mesh-{service}",
                Match = new RouteMatch { Path = $"{prefix}/{{**rest}}" },
                Transforms = [new Dictionary<string, string> { ["PathRemovePrefix"] = prefix }],
            });
            // With the mesh switched off (mesh.enabled: false) nothing would route http://{service}/: it would go to a
            // DNS lookup of the service's name. The cluster then has no destination, and YARP answers 503.
            clusters.Add(new ClusterConfig
            {
                ClusterId = $"mesh-{service}",
                Destinations = snapshot.Enabled
                    ? new Dictionary<string, DestinationConfig> { ["mesh"] = new() { Address = $"http://{service}/" } }
                    : new Dictionary<string, DestinationConfig>(),
            });
        }

        return new MeshProxyConfig(routes, clusters, new HashSet<string>(services, StringComparer.OrdinalIgnoreCase), snapshot.Enabled);
    }

    private sealed class MeshProxyConfig(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters, HashSet<string> services, bool enabled) : IProxyConfig
    {
        private readonly CancellationTokenSource _changed = new();

        public bool Enabled { get; } = enabled;

        public IReadOnlyList<RouteConfig> Routes { get; } = routes;

        public IReadOnlyList<ClusterConfig> Clusters { get; } = clusters;

        public IChangeToken ChangeToken => new CancellationChangeToken(_changed.Token);

        public HashSet<string> Services { get; } = services;

        public void SignalChange() => _changed.Cancel();
    }
}
