using System.Text.Json;

namespace Mesh.Extensibility;

/// <summary>
/// An extension with settings under <c>policy.extensions.{Name}</c> (and <c>mesh.extensions.{Name}</c>). The runtime
/// validates them with <see cref="ValidateSettings"/> before a document is applied, so a bad setting is rejected with
/// its path and reason and the last good configuration stays in force.
/// </summary>
public interface IConfigurableExtension : IMeshExtension
{
    /// <summary>The problems with <paramref name="settings"/>, one message each; none when they are valid.</summary>
    IEnumerable<string> ValidateSettings(JsonElement settings);
}
