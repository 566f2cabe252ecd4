using System.Reflection;
using System.Runtime.Loader;

namespace Mesh.StartupHook;

/// <summary>
/// A load context of the mesh's own: every assembly of the hook's folder loads here, in the version the mesh was
/// built against, beside the app's older copies, except the runtime's own assemblies. Those stay shared, because
/// the mesh meets the app only through them: HttpClient, and the DiagnosticListener it reports to.
/// </summary>
internal sealed class MeshLoadContext(string hookFolder) : AssemblyLoadContext("Mesh")
{
    private static readonly string RuntimeFolder = Path.GetDirectoryName(typeof(object).Assembly.Location)!;

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var file = assemblyName.Name + ".dll";
        if (File.Exists(Path.Combine(RuntimeFolder, file)))
        {
            return null;
        }

        var path = Path.Combine(hookFolder, file);
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }
}
