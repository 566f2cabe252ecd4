using System.Reflection;
using System.Runtime.Loader;

namespace Mesh.StartupHook;

/// <summary>Creates the load contexts of the mesh's components and says, once, what each one took private.</summary>
internal static class Components
{
    /// <summary>Whether to list, on stderr, the dependencies each component loaded privately (MESH_LOG_LEVEL debug or trace).</summary>
    private static readonly bool Verbose = Environment.GetEnvironmentVariable(MeshEnvironment.LogLevel) is { } level
        && (level.Equals("debug", StringComparison.OrdinalIgnoreCase) || level.Equals("trace", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Loads the main assembly of a component: the app's own copy when the app ships it in the component's version or
    /// newer (an app that references the package itself, e.g. for <c>AddMesh().AddResilience()</c>: one copy, so one
    /// type per extension and no second handler), else the component's, in a <see cref="ComponentLoadContext"/> of its
    /// own, returned in <paramref name="context"/>.
    /// </summary>
    public static Assembly LoadMain(string mainAssemblyPath, MeshAssemblies mesh, out ComponentLoadContext? context)
    {
        var path = Path.GetFullPath(mainAssemblyPath);
        var name = Path.GetFileNameWithoutExtension(path);
        var host = AssemblyLoadContext.GetLoadContext(typeof(Components).Assembly)!;
        if (mesh.HostProvides(name, path))
        {
            context = null;
            return host.LoadFromAssemblyName(new AssemblyName(name));
        }

        context = new ComponentLoadContext(path, host, mesh);
        return context.LoadFromAssemblyPath(path);
    }

    /// <summary>Lists what <paramref name="context"/> took from its own folder so far, when asked to.</summary>
    public static void ReportPrivate(string component, ComponentLoadContext? context)
    {
        if (Verbose && context is { Private.IsEmpty: false })
        {
            Console.Error.WriteLine($"[mesh] {component} runs with its own {string.Join(", ", context.Private.Keys.Order(StringComparer.Ordinal))}");
        }
    }
}
