using Mesh.Extensions.Admin;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the mesh admin endpoint.</summary>
public static class MeshAdminBuilderExtensions
{
    /// <summary>
    /// Serves the mesh's effective state as JSON on <see cref="MeshAdminOptions.Path"/> (default <c>/mesh/admin</c>):
    /// loopback callers only unless <see cref="MeshAdminOptions.AllowRemote"/>, which requires a token.
    /// </summary>
    public static IMeshBuilder AddMeshAdmin(this IMeshBuilder builder, Action<MeshAdminOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<MeshAdminOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MeshAdminOptions>, MeshAdminOptionsValidator>());
        return builder.AddMeshInbound().AddExtension<MeshAdminExtension>();
    }
}
