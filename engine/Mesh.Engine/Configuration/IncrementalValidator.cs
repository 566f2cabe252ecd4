using System.Runtime.CompilerServices;

namespace Mesh.Configuration;

/// <summary>
/// Validates whole documents at the cost of what changed: a service document object already validated (under the
/// same name) is not validated again. The runtime validates every applied document and, with a thousand services,
/// checking them all for one endpoint's change was most of the cost of the change.
/// </summary>
/// <remarks>
/// Sound because applied documents are not changed after they are handed over (see <c>SnapshotCompiler</c>):
/// a changed service arrives as a new object. The cache is keyed by the object, so it lets go of replaced ones.
/// </remarks>
internal sealed class IncrementalValidator(MeshValidator validator)
{
    private ConditionalWeakTable<ServiceDocument, Validated> _validated = new();

    /// <summary>The same errors, in the same order, as <see cref="MeshValidator.Validate"/>.</summary>
    public List<ValidationError> Validate(MeshDocument document)
    {
        var errors = new List<ValidationError>();
        if (document.Mesh is { } settings)
        {
            validator.ValidateSettings(settings, "$.mesh", errors);
        }

        var validated = Volatile.Read(ref _validated);
        foreach (var (name, service) in document.Services ?? [])
        {
            if (service is not null && validated.TryGetValue(service, out var known) && string.Equals(known.Name, name, StringComparison.Ordinal))
            {
                errors.AddRange(known.Errors);
                continue;
            }

            var own = new List<ValidationError>();
            validator.ValidateService(name, service, $"$.services.{name}", own);
            if (service is not null)
            {
                validated.AddOrUpdate(service, new Validated(name, [.. own]));
            }

            errors.AddRange(own);
        }

        return errors;
    }

    /// <summary>Forgets every result: the validators changed (an extension joined).</summary>
    public void Forget() => Volatile.Write(ref _validated, new ConditionalWeakTable<ServiceDocument, Validated>());

    private sealed record Validated(string Name, ValidationError[] Errors);
}
