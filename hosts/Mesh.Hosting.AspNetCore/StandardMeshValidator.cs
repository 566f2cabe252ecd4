using Mesh.Configuration;
using Mesh.Extensibility;
using Mesh.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Hosting;

/// <summary>
/// The validator of a runtime with the standard extensions (<c>AddStandardExtensions()</c>), for checking documents
/// where no app runs, as <c>meshctl</c> does: it finds everything a standard app's runtime finds, extension settings
/// (<c>rateLimit</c>, <c>authorization</c>, <c>faults</c>) and the resilience extension's limits included.
/// </summary>
public static class StandardMeshValidator
{
    /// <summary>
    /// Builds the validator. The extensions are registered and joined to a runtime the way a standard app registers and
    /// joins them, so the set cannot differ from the app's; they live as long as the validator.
    /// </summary>
    public static MeshValidator Create()
    {
        var services = new ServiceCollection();
        services.AddMesh().AddStandardExtensions();
        var provider = services.BuildServiceProvider();
        var runtime = provider.GetRequiredService<MeshRuntime>();
        foreach (var extension in provider.GetServices<IMeshExtension>().Where(e => e is not null))
        {
            runtime.AddExtension(extension);
        }

        return runtime.Validator;
    }
}
