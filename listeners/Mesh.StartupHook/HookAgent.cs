using Mesh.Extensions.Resilience.OutlierDetection;
using Mesh.Providers;
using Mesh.Providers.Etcd;
using Mesh.Runtime;
using Microsoft.Extensions.Logging;

namespace Mesh.StartupHook;

/// <summary>
/// Builds the process's mesh from the environment (the same variables as <c>AddMesh()</c>) and attaches it. Kept
/// apart from <see cref="StartupHook"/> so that the resolver is installed before any mesh type is loaded.
/// </summary>
internal static class HookAgent
{
    private const string HostingStartupVariable = "ASPNETCORE_HOSTINGSTARTUPASSEMBLIES";
    private const string HostingStartupAssembly = "Mesh.StartupHook.AspNetCore";
    private static readonly TimeSpan FirstLoadWait = TimeSpan.FromSeconds(2);

    /// <summary>Starts the mesh and, for ASP.NET Core apps, its hosting startup.</summary>
    public static void Start()
    {
        if (StartWithoutHostingStartup())
        {
            EnableHostingStartup();
        }
    }

    /// <summary>Starts the mesh for outbound calls only; false when there is nothing to start.</summary>
    public static bool StartWithoutHostingStartup()
    {
        // Only which sources are wanted is decided here; building them (reading MESH_ETCD_*, the CA file) happens
        // inside ConfigSourceStarter, so a bad setting of one source costs that source alone.
        var sources = new List<(string Name, Func<IMeshConfigSource> Create)>();
        if (Environment.GetEnvironmentVariable(MeshEnvironment.Config) is { } configPath && !string.IsNullOrWhiteSpace(configPath))
        {
            sources.Add((configPath, () => new JsonFileConfigSource(configPath)));
        }

        if (Environment.GetEnvironmentVariable(MeshEnvironment.EtcdEndpoints) is { } etcdEndpoints && !string.IsNullOrWhiteSpace(etcdEndpoints))
        {
            // ReadOptions returns null only when MESH_ETCD_ENDPOINTS is blank, which was just ruled out.
            sources.Add(($"etcd {etcdEndpoints}", () => new EtcdConfigSource(EtcdEnvironment.ReadOptions()!)));
        }

        if (sources.Count == 0)
        {
            Console.Error.WriteLine($"[mesh] startup hook loaded but neither {MeshEnvironment.Config} nor {MeshEnvironment.EtcdEndpoints} is set: the mesh stays off");
            return false;
        }

        var level = Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable(MeshEnvironment.LogLevel), true, out var parsed) ? parsed : LogLevel.Warning;
        var loggerFactory = new LoggerFactory([new StderrLoggerProvider(level)]);
        var runtime = new MeshRuntime(new MeshRuntimeOptions { ServiceName = Environment.GetEnvironmentVariable(MeshEnvironment.ServiceName) }, loggerFactory);
        runtime.AddExtension(new OutlierDetector(runtime));
        runtime.AddExtension(new EndpointCircuitBreaker(runtime));
        ExtensionFolders.Load(runtime);
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

        MeshAgent.Attach(runtime);
        return true;
    }

    // ASP.NET Core reads the variable when the host is built, after this hook ran: setting it for this process
    // is enough for the inbound middleware and the factory handler to join the app's own services.
    private static void EnableHostingStartup()
    {
        var current = Environment.GetEnvironmentVariable(HostingStartupVariable);
        if (current?.Split(';').Contains(HostingStartupAssembly, StringComparer.OrdinalIgnoreCase) == true)
        {
            return;
        }

        Environment.SetEnvironmentVariable(HostingStartupVariable, string.IsNullOrEmpty(current) ? HostingStartupAssembly : $"{current};{HostingStartupAssembly}");
    }
}
