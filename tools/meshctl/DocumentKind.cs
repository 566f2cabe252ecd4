using Mesh.Configuration;
using Mesh.Hosting;

namespace Mesh.Cli;

/// <summary>The document kinds meshctl reads: a whole mesh.json, one policy, one endpoint, the mesh settings.</summary>
internal enum DocumentKind
{
    Mesh,
    Policy,
    Endpoint,
    Config,
}

/// <summary>
/// Parses and validates a document of a kind with the runtime's own parser and validator, with the validators of the
/// standard extensions (<see cref="StandardMeshValidator"/>).
/// </summary>
internal static class DocumentValidation
{
    private static readonly Lazy<MeshValidator> StandardValidator = new(StandardMeshValidator.Create);

    /// <summary>The validator of a standard app's runtime.</summary>
    public static MeshValidator Validator => StandardValidator.Value;

    public static List<ValidationError> Validate(DocumentKind kind, string json, out object? document)
    {
        var validator = Validator;
        var parsed = kind switch
        {
            DocumentKind.Mesh => MeshJson.TryParseDocument(json, out var mesh, out var error) ? Ok(mesh, validator.Validate(mesh)) : Fail(error),
            DocumentKind.Policy => MeshJson.TryParsePolicy(json, out var policy, out var error) ? Ok(policy, Collect((p, e) => validator.ValidatePolicy(policy, p, e))) : Fail(error),
            DocumentKind.Endpoint => MeshJson.TryParseEndpoint(json, out var endpoint, out var error) ? Ok(endpoint, Collect((p, e) => validator.ValidateEndpoint(endpoint, p, e))) : Fail(error),
            _ => MeshJson.TryParseSettings(json, out var settings, out var error) ? Ok(settings, Collect((p, e) => validator.ValidateSettings(settings, p, e))) : Fail(error),
        };
        document = parsed.Document;
        return [.. parsed.Errors];
    }

    private static (object? Document, IReadOnlyList<ValidationError> Errors) Ok(object document, IReadOnlyList<ValidationError> errors) => (document, errors);

    private static (object? Document, IReadOnlyList<ValidationError> Errors) Fail(ValidationError? error) => (null, [error!]);

    private static List<ValidationError> Collect(Action<string, List<ValidationError>> validate)
    {
        var errors = new List<ValidationError>();
        validate("$", errors);
        return errors;
    }

    /// <summary>Writes each error as <c>file: path: reason</c>, the form editors and CI logs link to.</summary>
    public static void Report(TextWriter error, string file, IEnumerable<ValidationError> errors)
    {
        foreach (var e in errors)
        {
            error.WriteLine($"{file}: {e.Path}: {e.Message}");
        }
    }

    /// <summary>Reads a file, or standard input for <c>-</c>.</summary>
    public static async Task<string> ReadAsync(string file, CancellationToken cancellationToken)
        => file == "-" ? await Console.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false) : await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
}
