using Mesh.AspNetCore;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the ASP.NET Core parts of the mesh.</summary>
public static class MeshAspNetCoreExtensions
{
    /// <summary>Adds the inbound middleware (context restoration and inbound extensions) to the app's pipeline.</summary>
    public static IMeshBuilder AddMeshInbound(this IMeshBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Transient<IStartupFilter, MeshStartupFilter>());
        return builder;
    }
}
