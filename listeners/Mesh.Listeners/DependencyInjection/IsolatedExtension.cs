using Mesh.Extensibility;
using Mesh.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh;

/// <summary>
/// The one construction of an extension added with <c>AddExtension&lt;T&gt;()</c>, isolated as the startup hook
/// isolates the extensions it loads from folders: whatever the constructor (or a service it needs) throws is
/// reported once (log, <c>mesh.extension.failures</c>, naming the type), and the app starts and the mesh runs
/// without it. <see cref="Instance"/> is null then, and so is the extension's entry in
/// <c>IEnumerable&lt;IMeshExtension&gt;</c>; the mesh's consumers skip it.
/// </summary>
/// <remarks>
/// The failure is kept here, in a singleton that itself never fails to build, because the container caches neither
/// a null singleton nor a failed construction: every consumer resolving the extensions would try again, and
/// report again.
/// </remarks>
internal sealed class IsolatedExtension<T>
    where T : class, IMeshExtension
{
    public IsolatedExtension(IServiceProvider services, MeshRuntime runtime)
    {
        try
        {
            Instance = services.GetRequiredService<T>();
        }
        catch (Exception ex)
        {
            runtime.ReportExtensionFailure(typeof(T).FullName ?? typeof(T).Name, ex);
        }
    }

    /// <summary>The extension, or null when it could not be constructed.</summary>
    public T? Instance { get; }
}
