namespace Mesh.Providers.Etcd;

/// <summary>Where and how to read the mesh configuration from etcd.</summary>
public sealed class EtcdProviderOptions
{
    /// <summary>Client URLs of the etcd members, e.g. <c>http://127.0.0.1:2379</c>; tried in turn.</summary>
    public IList<string> Endpoints { get; } = [];

    /// <summary>The key prefix of the mesh, <c>/mesh</c> by default.</summary>
    public string Prefix { get; set; } = EtcdKeys.DefaultPrefix;

    /// <summary>User name for etcd authentication.</summary>
    public string? Username { get; set; }

    /// <summary>Password for etcd authentication.</summary>
    public string? Password { get; set; }

    /// <summary>PEM file of the CA that signed the etcd server certificates (https endpoints).</summary>
    public string? CaFile { get; set; }

    /// <summary>PEM client certificate for mutual TLS.</summary>
    public string? CertFile { get; set; }

    /// <summary>PEM private key of <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// A file where the last applied configuration is kept, so that a restart while etcd is unreachable still
    /// routes on the last known state.
    /// </summary>
    public string? CacheFile { get; set; }

    /// <summary>
    /// How long start-up waits for the first read before going on with the cache (or nothing). When the first read
    /// fails outright (connection refused) and there is a cache file, start-up goes on with it at once.
    /// </summary>
    public TimeSpan InitialLoadTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest pause between reconnection attempts.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Shortest time between two applies of watched changes: changes that arrive within it are applied together, as
    /// one new snapshot. An isolated change is applied at once. Bounds how stale a burst leaves the mesh.
    /// </summary>
    public TimeSpan CoalesceWindow { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Longest time the cache file lags the configuration in force while changes keep coming.</summary>
    public TimeSpan CacheInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// When true, the process compiles only the services it uses: those in <see cref="Services"/>, its own service,
    /// and each other one from its first call on (the call waits for nothing: the keys are already here, parsed and
    /// compiled then). A change to a service the process never called then causes no parse, no compile and no
    /// snapshot swap in it. The watch still receives every key's events. False (every service) by default, as a
    /// gateway or an admin view that lists the mesh needs.
    /// </summary>
    public bool ScopeToCalledServices { get; set; }

    /// <summary>Services always compiled under <see cref="ScopeToCalledServices"/>: the ones the process is configured to call.</summary>
    public IList<string> Services { get; } = [];

    /// <summary>Deadline of one unary call (range read, authentication).</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(3);
}
