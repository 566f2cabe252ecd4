using Mesh.Providers;
using Mesh.Runtime;

namespace Mesh;

/// <summary>Options of <c>AddMesh()</c>. Unset values come from the <c>Mesh</c> configuration section, then from <c>MESH_*</c> variables.</summary>
public sealed class MeshOptions
{
    /// <summary>The embedded JSON file (<c>Mesh:ConfigPath</c>, <c>MESH_CONFIG</c>).</summary>
    public string? ConfigPath { get; set; }

    /// <summary>The name this app runs as (<c>Mesh:ServiceName</c>, <c>MESH_SERVICE_NAME</c>).</summary>
    public string? ServiceName { get; set; }

    /// <summary>Options of the runtime (balancers, extension validators).</summary>
    public MeshRuntimeOptions Runtime { get; } = new();

    /// <summary>Configuration sources besides the file; providers such as etcd add theirs here.</summary>
    public IList<Func<IServiceProvider, IMeshConfigSource>> Sources { get; } = [];

    /// <summary>
    /// True for an app at the edge of the mesh (<c>Mesh:Ingress</c>, <c>MESH_INGRESS=true</c>): lane and caller headers
    /// of inbound requests come from outside and are removed before anything reads them.
    /// </summary>
    public bool? Ingress { get; set; }

    /// <summary>
    /// A runtime created and fed elsewhere (by the startup hook): the app's services use it instead of creating
    /// their own, and neither start sources nor attach it again.
    /// </summary>
    public MeshRuntime? ExternalRuntime { get; set; }

    /// <summary>Routes calls from the embedded JSON file at <paramref name="path"/>.</summary>
    public MeshOptions UseFile(string path)
    {
        ConfigPath = path;
        return this;
    }
}
