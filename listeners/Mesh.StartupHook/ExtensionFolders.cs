using System.Reflection;
using System.Runtime.Loader;
using Mesh.Extensibility;
using Mesh.Runtime;

namespace Mesh.StartupHook;

/// <summary>
/// Custom extensions for apps that know nothing of Mesh: every public, concrete <see cref="IMeshExtension"/> in the
/// assemblies of the folders named by <c>MESH_EXTENSIONS_PATH</c> (separated by the platform's path separator) joins
/// the hook's runtime, made with a constructor taking the <see cref="MeshRuntime"/> or a parameterless one. An
/// assembly or extension that fails to load or construct is reported (stderr, <c>mesh.extension.failures</c>) and
/// skipped; the app and the other extensions go on.
/// </summary>
internal static class ExtensionFolders
{
    public const string Variable = "MESH_EXTENSIONS_PATH";

    public static void Load(MeshRuntime runtime)
    {
        var folders = Environment.GetEnvironmentVariable(Variable)?.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        foreach (var folder in folders)
        {
            if (!Directory.Exists(folder))
            {
                Console.Error.WriteLine($"[mesh] {Variable}: folder {folder} does not exist; no extensions loaded from it");
                continue;
            }

            foreach (var file in Directory.GetFiles(folder, "*.dll").Order(StringComparer.Ordinal))
            {
                foreach (var type in ExtensionTypes(file, runtime))
                {
                    Join(type, runtime);
                }
            }
        }
    }

    // The context the mesh itself runs in (the app's, or its own when the app ships older dependencies): extensions
    // must bind to the same Mesh assemblies.
    private static AssemblyLoadContext MeshContext => AssemblyLoadContext.GetLoadContext(typeof(ExtensionFolders).Assembly)!;

    private static IEnumerable<Type> ExtensionTypes(string file, MeshRuntime runtime)
    {
        try
        {
            var name = AssemblyName.GetAssemblyName(file);

            // The folder may also hold the Mesh assemblies the extension was built against: the hook's own are used.
            if (MeshContext.Assemblies.Any(a => AssemblyName.ReferenceMatchesDefinition(a.GetName(), name)))
            {
                return [];
            }

            var assembly = MeshContext.LoadFromAssemblyPath(Path.GetFullPath(file));
            return assembly.GetExportedTypes().Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IMeshExtension).IsAssignableFrom(t));
        }
        catch (Exception ex) when (ex is IOException or BadImageFormatException or FileLoadException or TypeLoadException or ReflectionTypeLoadException)
        {
            runtime.ReportExtensionFailure(Path.GetFileName(file), ex);
            return [];
        }
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
