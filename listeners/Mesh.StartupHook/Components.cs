using System.Runtime.Loader;

namespace Mesh.StartupHook;

/// <summary>Creates the load contexts of the mesh's components and says, once, what each one took private.</summary>
internal static class Components
{
    /// <summary>Whether to list, on stderr, the dependencies each component loaded privately (MESH_LOG_LEVEL debug or trace).</summary>
    private static readonly bool Verbose = Environment.GetEnvironmentVariable(MeshEnvironment.LogLevel) is { } level
        && (level.Equals("debug", StringComparison.OrdinalIgnoreCase) || level.Equals("trace", StringComparison.OrdinalIgnoreCase));

    /// <summary>A context for the component whose main assembly is <paramref name="mainAssemblyPath"/>.</summary>
    public static ComponentLoadContext CreateContext(string mainAssemblyPath, MeshAssemblies mesh)
        => new(Path.GetFullPath(mainAssemblyPath), AssemblyLoadContext.GetLoadContext(typeof(Components).Assembly)!, mesh);

    /// <summary>Lists what <paramref name="context"/> took from its own folder so far, when asked to.</summary>
    public static void ReportPrivate(string component, ComponentLoadContext context)
    {
        if (Verbose && !context.Private.IsEmpty)
        {
            Console.Error.WriteLine($"[mesh] {component} runs with its own {string.Join(", ", context.Private.Keys.Order(StringComparer.Ordinal))}");
        }
    }
}
