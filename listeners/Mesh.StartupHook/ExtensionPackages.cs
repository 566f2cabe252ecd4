using System.Reflection;
using Mesh.Extensibility;
using Mesh.Runtime;

namespace Mesh.StartupHook;

/// <summary>
/// Extension packages for apps that know nothing of Mesh: the built-in resilience package (<c>components/resilience</c>)
/// and every package in the folders named by <c>MESH_EXTENSIONS_PATH</c> (separated by the platform's path
/// separator). Each package loads in a <see cref="ComponentLoadContext"/> of its own, so that its dependencies never
/// meet the app's nor another package's; every public, concrete <see cref="IMeshExtension"/> in it joins the
/// runtime, made with a constructor taking the <see cref="MeshRuntime"/> or a parameterless one. A package or
/// extension that fails to load or construct is reported (stderr, <c>mesh.extension.failures</c>) and skipped; the
/// app and the other extensions go on.
/// </summary>
internal static class ExtensionPackages
{
    public const string Variable = "MESH_EXTENSIONS_PATH";

    /// <summary>Loads the built-in resilience package and the custom ones.</summary>
    public static void Load(MeshRuntime runtime, MeshAssemblies mesh)
    {
        LoadPackage(Path.Combine(mesh.Component("resilience"), "Mesh.Extensions.Resilience.dll"), runtime, mesh);
        var folders = Environment.GetEnvironmentVariable(Variable)?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        foreach (var folder in folders)
        {
            if (!Directory.Exists(folder))
            {
                Console.Error.WriteLine($"[mesh] {Variable}: folder {folder} does not exist; no extensions loaded from it");
                continue;
            }

            foreach (var package in Packages(folder, mesh))
            {
                LoadPackage(package, runtime, mesh);
            }
        }
    }

    // A package's main assembly is the one its .deps.json is named after; the other assemblies of the folder are its
    // dependencies (and the Mesh assemblies it was built against, which the mesh's own copies replace). A folder
    // without any .deps.json is a folder of plain assemblies, each one a package.
    private static IEnumerable<string> Packages(string folder, MeshAssemblies mesh)
    {
        var withDeps = Directory.GetFiles(folder, "*.deps.json")
            .Select(deps => Path.Combine(folder, Path.GetFileName(deps)[..^".deps.json".Length] + ".dll"))
            .Where(File.Exists)
            .ToList();
        var candidates = withDeps.Count > 0 ? withDeps : [.. Directory.GetFiles(folder, "*.dll")];
        return candidates.Where(path => !mesh.IsShared(Path.GetFileNameWithoutExtension(path))).Order(StringComparer.Ordinal);
    }

    private static void LoadPackage(string path, MeshRuntime runtime, MeshAssemblies mesh)
    {
        var name = Path.GetFileName(path);
        List<Type> types;
        ComponentLoadContext? context;
        try
        {
            var assembly = Components.LoadMain(path, mesh, out context);
            types = [.. assembly.GetExportedTypes().Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IMeshExtension).IsAssignableFrom(t))];
        }
        catch (Exception ex) when (ex is IOException or BadImageFormatException or FileLoadException or TypeLoadException or ReflectionTypeLoadException or InvalidOperationException or ArgumentException)
        {
            runtime.ReportExtensionFailure(name, ex);
            return;
        }

        foreach (var type in types)
        {
            Join(type, runtime);
        }

        Components.ReportPrivate(name, context);
    }

    private static void Join(Type type, MeshRuntime runtime)
    {
        try
        {
            var extension = type.GetConstructor([typeof(MeshRuntime)]) is { } withRuntime
                ? (IMeshExtension)withRuntime.Invoke([runtime])
                : type.GetConstructor(Type.EmptyTypes) is { } parameterless
                    ? (IMeshExtension)parameterless.Invoke(null)
                    : throw new MissingMethodException($"{type.FullName} has neither a ({nameof(MeshRuntime)}) nor a parameterless public constructor");
            runtime.AddExtension(extension);
        }
        catch (Exception ex)
        {
            // Whatever an extension's constructor throws, the app must start: report, skip, go on.
            runtime.ReportExtensionFailure(type.FullName ?? type.Name, ex is TargetInvocationException { InnerException: { } inner } ? inner : ex);
        }
    }
}
