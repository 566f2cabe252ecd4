using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.Loader;

namespace Mesh.StartupHook;

/// <summary>
/// The load context of one mesh component with third-party dependencies of its own (the etcd provider, the
/// resilience extension, each custom extension package). Only what conflicts goes private:
/// <list type="bullet">
/// <item>the contract (the mesh's shared assemblies, and the logging, DI, hosting and options abstractions whose types
/// cross with them) always comes from the mesh's context, so that the component and the rest of the mesh exchange the
/// same types;</item>
/// <item>any other dependency comes from the mesh's context too when that context has it in the version of the
/// component's own copy or a newer one (the app's own copy, the runtime's, or the hook folder's);</item>
/// <item>else from the component's own folder, by its <c>.deps.json</c>, beside the app's older copy.</item>
/// </list>
/// </summary>
internal sealed class ComponentLoadContext : AssemblyLoadContext
{
    // Types of these cross the boundary: MeshRuntime.LoggerFactory, IMeshBuilder.Services, and what components
    // register there (hosted services, options). One copy per process, the mesh context's.
    private static readonly string[] ContractDependencies =
    [
        "Microsoft.Extensions.Logging.Abstractions", "Microsoft.Extensions.DependencyInjection.Abstractions",
        "Microsoft.Extensions.Hosting.Abstractions", "Microsoft.Extensions.Options",
    ];

    private readonly AssemblyDependencyResolver _resolver;
    private readonly AssemblyLoadContext _host;
    private readonly MeshAssemblies _mesh;

    public ComponentLoadContext(string mainAssemblyPath, AssemblyLoadContext host, MeshAssemblies mesh)
        : base($"Mesh component {Path.GetFileNameWithoutExtension(mainAssemblyPath)}")
    {
        _resolver = new AssemblyDependencyResolver(mainAssemblyPath);
        _host = host;
        _mesh = mesh;
    }

    /// <summary>Assemblies this context loaded from the component's folder instead of the app's copy or none.</summary>
    public ConcurrentDictionary<string, string> Private { get; } = new(StringComparer.OrdinalIgnoreCase);

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        var name = assemblyName.Name!;
        if (_mesh.IsShared(name))
        {
            return FromHost(assemblyName);
        }

        // Whatever version the component was built against: the one the mesh's context has is the one that crosses.
        if (ContractDependencies.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            return _host.LoadFromAssemblyName(new AssemblyName(name));
        }

        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        if (path is null || _mesh.HostProvides(name, path))
        {
            return FromHost(assemblyName);
        }

        Private[name] = path;
        return LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
        => _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;

    // null hands the name to the default context; a mesh that itself runs isolated is asked explicitly.
    private Assembly? FromHost(AssemblyName assemblyName) => _host == Default ? null : _host.LoadFromAssemblyName(assemblyName);
}
