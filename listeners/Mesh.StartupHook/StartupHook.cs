using System.Reflection;
using Mesh.StartupHook;

/// <summary>
/// The entry the .NET host calls before the app's <c>Main</c> when <c>DOTNET_STARTUP_HOOKS</c> names this assembly.
/// Must be a type named <c>StartupHook</c> in no namespace with a static <c>Initialize()</c>.
/// </summary>
internal static class StartupHook
{
    /// <summary>Starts the mesh; any failure is reported once on stderr and the app runs unmeshed.</summary>
    public static void Initialize()
    {
        try
        {
            var mesh = new MeshAssemblies(Path.GetDirectoryName(typeof(StartupHook).Assembly.Location)!);
            var conflicts = mesh.FindConflicts();
            if (conflicts.Count == 0)
            {
                DependencyResolver.Install(mesh.Folder);
                HookAgent.Start(mesh);
                return;
            }

            Console.Error.WriteLine($"[mesh] the app ships older versions of assemblies the mesh's shared layer needs ({string.Join("; ", conflicts)}): "
                + "the mesh runs in a load context of its own; every HttpClient call is routed (lanes, isolation, ejection), but the app's hosts are not joined: "
                + "no inbound context, no retry on IHttpClientFactory clients, no gRPC client-factory routing, no governance middleware, no self-registration");
            StartIsolated(mesh.Folder);
        }
        catch (Exception ex)
        {
            var cause = ex is TargetInvocationException { InnerException: { } inner } ? inner : ex;
            Console.Error.WriteLine($"[mesh] startup hook failed, the app runs without the mesh: {cause.GetType().Name}: {cause.Message}");
        }
    }

    // The mesh's own copy of this assembly, loaded in the mesh's context, so that everything it touches binds there.
    private static void StartIsolated(string folder)
    {
        var context = new MeshLoadContext(folder);
        var hook = context.LoadFromAssemblyPath(typeof(StartupHook).Assembly.Location);
        var start = hook.GetType(typeof(HookAgent).FullName!, throwOnError: true)!.GetMethod(nameof(HookAgent.StartIsolated), BindingFlags.Public | BindingFlags.Static)!;
        start.Invoke(null, [folder]);
    }
}
