using Microsoft.Extensions.Options;

namespace Mesh.Extensions.Admin;

/// <summary>Refuses to start with the admin endpoint exposed beyond loopback and no token.</summary>
internal sealed class MeshAdminOptionsValidator : IValidateOptions<MeshAdminOptions>
{
    public ValidateOptionsResult Validate(string? name, MeshAdminOptions options)
    {
        if (options.AllowRemote && string.IsNullOrEmpty(options.Token))
        {
            return ValidateOptionsResult.Fail("Mesh admin endpoint: AllowRemote needs a Token (the endpoint shows the whole mesh configuration)");
        }

        return !options.Path.StartsWith('/')
            ? ValidateOptionsResult.Fail($"Mesh admin endpoint: Path '{options.Path}' must start with '/'")
            : ValidateOptionsResult.Success;
    }
}
