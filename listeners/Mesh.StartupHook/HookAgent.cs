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
        var configPath = Environment.GetEnvironmentVariable(MeshEnvironment.Config);
        var sources = new List<IMeshConfigSource>();
        if (!string.IsNullOrWhiteSpace(configPath))
        {
            sources.Add(new JsonFileConfigSource(configPath));
        }

        if (EtcdEnvironment.ReadOptions() is { } etcd)
        {
            sources.Add(new EtcdConfigSource(etcd));
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
        foreach (var source in sources)
        {
            // A source on the network gets a short while to deliver the first snapshot, so the app's first calls
            // are routed; past that the app starts and the source catches up in the background, rather than
            // the app hanging on an unreachable control plane.
            try
            {
                if (!source.StartAsync(runtime, CancellationToken.None).Wait(FirstLoadWait))
                {
                    Console.Error.WriteLine($"[mesh] {source.Name} gave no configuration within {FirstLoadWait.TotalSeconds:0.#} s; the app starts and routes once it does");
                }
            }
            catch (AggregateException ex)
            {
                Console.Error.WriteLine($"[mesh] {source.Name} failed to start: {ex.GetBaseException().Message}");
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
