namespace Mesh.Configuration;

/// <summary>
/// A named layer of configuration. The runtime keeps the last good document of every layer and puts the layers
/// together in <see cref="Order"/> (lowest first, a higher layer over it), so that the embedded file and etcd can
/// feed one process without either wiping the other. The name identifies the layer and is stable; the source string
/// passed with each document is only for logs (it carries the file path or the etcd revision).
/// </summary>
/// <param name="Name">Stable name, e.g. <c>file</c> or <c>etcd</c>.</param>
/// <param name="Order">Position: a layer overrides the layers with a lower order.</param>
public sealed record MeshConfigLayer(string Name, int Order)
{
    /// <summary>The layer of callers that apply whole documents without naming a layer; below all others.</summary>
    public static MeshConfigLayer Default { get; } = new("default", 0);

    /// <summary>The embedded JSON file (<c>MESH_CONFIG</c>).</summary>
    public static MeshConfigLayer File { get; } = new("file", 100);

    /// <summary>etcd (and its last-known-good cache file), over the file.</summary>
    public static MeshConfigLayer Etcd { get; } = new("etcd", 200);
}
