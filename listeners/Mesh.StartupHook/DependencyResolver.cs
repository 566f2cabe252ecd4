using System.Reflection;
using System.Runtime.Loader;

namespace Mesh.StartupHook;

/// <summary>
/// Resolves the hook's own dependencies from its folder. The handler runs only for assemblies the app itself
/// cannot provide: when the app ships the same or a newer version of a shared assembly (e.g.
/// Microsoft.Extensions.Logging), the runtime binds the app's own, which is compatible, and this handler never sees
/// it. An app shipping older versions is found before the mesh starts (<see cref="MeshAssemblies.FindConflicts"/>), and
/// the mesh then runs in its own <see cref="MeshLoadContext"/> instead; what still reaches this handler with an app copy
/// loaded (an assembly the app loaded outside its dependency list) is logged, as the two may not mix.
/// </summary>
internal static class DependencyResolver
{
    private static string? _folder;

    public static void Install(string folder)
    {
        _folder = folder;
        AssemblyLoadContext.Default.Resolving += Resolve;
    }

    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name)
    {
        try
        {
            var path = Path.Combine(_folder!, name.Name + ".dll");
            if (!File.Exists(path))
            {
                return null;
            }

            var loaded = context.Assemblies.FirstOrDefault(a => string.Equals(a.GetName().Name, name.Name, StringComparison.OrdinalIgnoreCase));
            if (loaded is not null)
            {
                Console.Error.WriteLine($"[mesh] {name.Name} {name.Version} was requested but the app loaded {loaded.GetName().Version}; using the mesh's copy from {_folder}");
            }

            return context.LoadFromAssemblyPath(path);
        }
        catch (Exception ex) when (ex is IOException or BadImageFormatException or FileLoadException)
        {
            Console.Error.WriteLine($"[mesh] cannot load {name.Name} from {_folder}: {ex.Message}");
            return null;
        }
    }
}
