using System.Text.Json;
using Mesh.LoadBalancing;

namespace Mesh.Runtime;

/// <summary>Process-level options of a <see cref="MeshRuntime"/>.</summary>
public sealed class MeshRuntimeOptions
{
    /// <summary>The name this process runs as; overrides <c>mesh.serviceName</c> (<c>MESH_SERVICE_NAME</c>).</summary>
    public string? ServiceName { get; set; }

    /// <summary>Known load balancers; custom ones are added here.</summary>
    public LoadBalancerRegistry LoadBalancers { get; set; } = new();

    /// <summary>Validators of extension settings by extension name; null accepts any extension settings.</summary>
    public IReadOnlyDictionary<string, Func<JsonElement, IEnumerable<string>>>? ExtensionValidators { get; set; }
}
