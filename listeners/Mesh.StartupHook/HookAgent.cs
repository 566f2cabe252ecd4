using System.Reflection;
using Mesh.Providers;
using Mesh.Runtime;
using Microsoft.Extensions.Logging;

namespace Mesh.StartupHook;

/// <summary>
/// Builds the process's mesh from the environment (the same variables as <c>AddMesh()</c>) and attaches it. Kept
/// apart from <see cref="StartupHook"/> so that the resolver is installed before any mesh type is loaded.
/// </summary>
internal static class HookAgent
{
    private static readonly TimeSpan FirstLoadWait = TimeSpan.FromSeconds(2);

    /// <summary>Starts the mesh in the app's context and joins the app's hosts as they are built.</summary>
    public static void Start(MeshAssemblies mesh)
    {
        if (Build(mesh) is { } started)
        {
            HostJoin.Watch(started.Runtime, started.Etcd);
        }
    }

    /// <summary>
    /// Starts the mesh in a load context of its own (<see cref="MeshLoadContext"/>), for outbound calls only: its
    /// copies of the app's older assemblies cannot meet the app's hosts.
    /// </summary>
    public static void StartIsolated(string folder) => Build(new MeshAssemblies(folder) { Isolated = true });

    private static (MeshRuntime Runtime, Assembly? Etcd)? Build(MeshAssemblies mesh)
    {
        // Only which sources are wanted is decided here; building them (reading MESH_ETCD_*, the CA file) happens
        // inside ConfigSourceStarter, so a bad setting of one source costs that source alone.
        var sources = new List<(string Name, Func<IMeshConfigSource> Create)>();
        if (Environment.GetEnvironmentVariable(MeshEnvironment.Config) is { } configPath && !string.IsNullOrWhiteSpace(configPath))
        {
            sources.Add((configPath, () => new JsonFileConfigSource(configPath)));
        }

        Assembly? etcd = null;
        ComponentLoadContext? etcdContext = null;
        if (Environment.GetEnvironmentVariable(MeshEnvironment.EtcdEndpoints) is { } etcdEndpoints && !string.IsNullOrWhiteSpace(etcdEndpoints))
        {
            sources.Add(($"etcd {etcdEndpoints}", () =>
            {
                // dotnet-etcd and the gRPC and Protobuf versions it needs stay private to this component.
                etcd = Components.LoadMain(Path.Combine(mesh.Component("etcd"), "Mesh.Providers.Etcd.dll"), mesh, out etcdContext);
                return (IMeshConfigSource)etcd.GetType("Mesh.Providers.Etcd.EtcdEnvironment", throwOnError: true)!
                    .GetMethod("CreateSource", BindingFlags.Public | BindingFlags.Static)!.Invoke(null, BindingFlags.DoNotWrapExceptions, null, null, null)!;
            }));
        }

        if (sources.Count == 0)
        {
            Console.Error.WriteLine($"[mesh] startup hook loaded but neither {MeshEnvironment.Config} nor {MeshEnvironment.EtcdEndpoints} is set: the mesh stays off");
            return null;
        }

        var level = Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable(MeshEnvironment.LogLevel), true, out var parsed) ? parsed : LogLevel.Warning;
        var loggerFactory = new LoggerFactory([new StderrLoggerProvider(level)]);
        var runtime = new MeshRuntime(new MeshRuntimeOptions { ServiceName = Environment.GetEnvironmentVariable(MeshEnvironment.ServiceName) }, loggerFactory);
        ExtensionPackages.Load(runtime, mesh);
        foreach (var (name, create) in sources)
        {
            // A source on the network gets a short while to deliver the first snapshot, so the app's first calls
            // are routed; past that the app starts and the source catches up in the background, rather than
            // the app hanging on an unreachable control plane. A source that fails is reported on stderr by the
            // runtime's logger, now or whenever it fails, and the others go on.
            if (!ConfigSourceStarter.StartAsync(runtime, name, create, CancellationToken.None).Wait(FirstLoadWait))
            {
                Console.Error.WriteLine($"[mesh] {name} gave no configuration within {FirstLoadWait.TotalSeconds:0.#} s; the app starts and routes once it does");
            }
        }

        // Once its first read is done, the provider has loaded its gRPC and Protobuf assemblies.
        Components.ReportPrivate("etcd", etcdContext);
        MeshAgent.Attach(runtime);
        return (runtime, etcd);
    }
}
