using Mesh.Configuration;
using Mesh.Hosting;
using NJsonSchema;

namespace Mesh.Schemas.Tests;

/// <summary>
/// The published JSON Schemas (schemas/*.schema.json) accept and reject the same sample documents as the runtime's
/// own parser and validator, so what an editor flags is what the mesh would reject.
/// </summary>
public sealed class SchemaTests
{
    private static readonly string Root = AppContext.BaseDirectory;

    private static readonly Lazy<MeshValidator> Standard = new(StandardMeshValidator.Create);

    public static TheoryData<string> ValidSamples => Samples("valid");

    public static TheoryData<string> InvalidSamples => Samples("invalid");

    public static TheoryData<string> ExampleDocuments => Samples("examples");

    [Theory]
    [MemberData(nameof(ValidSamples))]
    public async Task Schema_ValidSample_HasNoErrors(string sample)
    {
        var schema = await SchemaFor(sample);

        var errors = schema.Validate(await File.ReadAllTextAsync(PathOf("valid", sample)));

        Assert.Empty(errors.Select(e => $"{e.Path}: {e.Kind}"));
    }

    [Theory]
    [MemberData(nameof(InvalidSamples))]
    public async Task Schema_InvalidSample_ReportsAnError(string sample)
    {
        var schema = await SchemaFor(sample);

        var errors = schema.Validate(await File.ReadAllTextAsync(PathOf("invalid", sample)));

        Assert.NotEmpty(errors);
    }

    [Theory]
    [MemberData(nameof(ValidSamples))]
    [MemberData(nameof(InvalidSamples))]
    public async Task SchemaAndValidator_SameSample_AgreeOnValidity(string sample)
    {
        var folder = File.Exists(PathOf("valid", sample)) ? "valid" : "invalid";
        var json = await File.ReadAllTextAsync(PathOf(folder, sample));
        var schema = await SchemaFor(sample);

        var schemaValid = schema.Validate(json).Count == 0;
        var runtimeErrors = RuntimeErrors(sample, json);

        Assert.Equal(folder == "valid", schemaValid);
        Assert.Equal(schemaValid, runtimeErrors.Count == 0);
    }

    [Theory]
    [MemberData(nameof(ExampleDocuments))]
    public async Task ExampleDocument_InTheRepository_IsValidForSchemaAndValidator(string sample)
    {
        var json = await File.ReadAllTextAsync(PathOf("examples", sample));
        var schema = await SchemaFor(sample);

        Assert.Empty(schema.Validate(json).Select(e => $"{e.Path}: {e.Kind}"));
        Assert.Empty(RuntimeErrors(sample, json));
    }

    [Fact]
    public async Task Schema_BadBalancerKind_PointsAtTheKindLikeTheValidator()
    {
        var json = await File.ReadAllTextAsync(PathOf("invalid", "policy-bad-balancer-kind.json"));
        var schema = await SchemaFor("policy-");

        var schemaError = Assert.Single(schema.Validate(json));
        var runtimeError = Assert.Single(RuntimeErrors("policy-", json));

        Assert.Equal("#/loadBalancer.kind", schemaError.Path);
        Assert.Equal("$.loadBalancer.kind", runtimeError.Path);
    }

    private static List<ValidationError> RuntimeErrors(string sample, string json)
    {
        // The runtime validates with the extensions it runs; these are a standard app's.
        var validator = Standard.Value;
        var errors = new List<ValidationError>();
        if (sample.StartsWith("policy-", StringComparison.Ordinal))
        {
            if (!MeshJson.TryParsePolicy(json, out var policy, out var error))
            {
                return [error!];
            }

            validator.ValidatePolicy(policy, "$", errors);
        }
        else if (sample.StartsWith("endpoint-", StringComparison.Ordinal))
        {
            if (!MeshJson.TryParseEndpoint(json, out var endpoint, out var error))
            {
                return [error!];
            }

            validator.ValidateEndpoint(endpoint, "$", errors);
        }
        else
        {
            if (!MeshJson.TryParseDocument(json, out var document, out var error))
            {
                return [error!];
            }

            errors.AddRange(validator.Validate(document));
        }

        return errors;
    }

    private static Task<JsonSchema> SchemaFor(string sample)
    {
        var name = sample.StartsWith("policy-", StringComparison.Ordinal) ? "policy"
            : sample.StartsWith("endpoint-", StringComparison.Ordinal) ? "endpoint"
            : "mesh";
        return JsonSchema.FromFileAsync(Path.Combine(Root, "schemas", $"{name}.schema.json"));
    }

    private static string PathOf(string folder, string sample) => Path.Combine(Root, "Samples", folder, sample);

    private static TheoryData<string> Samples(string folder)
        => [.. Directory.GetFiles(Path.Combine(Root, "Samples", folder), "*.json").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];
}
