using Mesh.Extensions.Resilience.OutlierDetection;
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
    private const string HostingStartupVariable = "ASPNETCORE_HOSTINGSTARTUPASSEMBLIES";
    private const string HostingStartupAssembly = "Mesh.StartupHook.AspNetCore";

    public static void Start()
    {
        var configPath = Environment.GetEnvironmentVariable(MeshEnvironment.Config);
        var sources = new List<IMeshConfigSource>();
        if (!string.IsNullOrWhiteSpace(configPath))
        {
            sources.Add(new JsonFileConfigSource(configPath));
        }

        if (sources.Count == 0)
        {
            Console.Error.WriteLine($"[mesh] startup hook loaded but neither {MeshEnvironment.Config} nor {MeshEnvironment.EtcdEndpoints} is set: the mesh stays off");
            return;
        }

        var level = Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("MESH_LOG_LEVEL"), true, out var parsed) ? parsed : LogLevel.Warning;
        var loggerFactory = new LoggerFactory([new StderrLoggerProvider(level)]);
        var runtime = new MeshRuntime(new MeshRuntimeOptions { ServiceName = Environment.GetEnvironmentVariable(MeshEnvironment.ServiceName) }, loggerFactory);
        runtime.AddObserver(new OutlierDetector(runtime));
        foreach (var source in sources)
        {
            // File sources load synchronously; a source that must wait on the network starts in the background
            // and the app starts unmeshed until its first snapshot, rather than hanging.
            var start = source.StartAsync(runtime, CancellationToken.None);
            if (!start.IsCompleted)
            {
                _ = start.ContinueWith(t => Console.Error.WriteLine($"[mesh] source {source.Name} failed: {t.Exception?.GetBaseException().Message}"), TaskContinuationOptions.OnlyOnFaulted);
            }
        }

        MeshAgent.Attach(runtime);
        EnableHostingStartup();
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
