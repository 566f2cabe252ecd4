using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mesh.Configuration;

/// <summary>Reads and writes the mesh documents with the contract's field names.</summary>
public static class MeshJson
{
    /// <summary>
    /// Largest whole mesh document accepted (a file, <c>meshctl import</c>), in characters; larger input is rejected,
    /// not parsed. 64 MiB holds about 400,000 endpoints of the usual size.
    /// </summary>
    public const int MaxDocumentLength = 64 * 1024 * 1024;

    /// <summary>
    /// Largest single key's document accepted (a policy, an endpoint, the settings), in characters: 1 MiB, below
    /// etcd's own default request limit of 1.5 MiB.
    /// </summary>
    public const int MaxValueLength = 1024 * 1024;

    /// <summary>Serializer options of the contract: camelCase, unknown fields are errors, comments allowed.</summary>
    public static JsonSerializerOptions Options => MeshJsonContext.Default.Options;

    /// <summary>Parses a whole mesh document.</summary>
    /// <remarks>
    /// Service names that differ only in case are refused here, with duplicate properties: host names ignore case, so
    /// the router would take them for one service and silently drop the other.
    /// </remarks>
    public static bool TryParseDocument(string json, [NotNullWhen(true)] out MeshDocument? document, out ValidationError? error)
    {
        if (!TryParse(json, MeshJsonContext.Default.MeshDocument, MaxDocumentLength, out document, out error))
        {
            return false;
        }

        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in document.Services?.Keys ?? Enumerable.Empty<string>())
        {
            if (!seen.TryAdd(name, name))
            {
                error = MeshValidator.DiffersOnlyInCase($"$.services.{name}", name, seen[name]);
                document = null;
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses one service policy document (the etcd <c>policy</c> key).</summary>
    public static bool TryParsePolicy(string json, [NotNullWhen(true)] out PolicyDocument? document, out ValidationError? error)
        => TryParse(json, MeshJsonContext.Default.PolicyDocument, MaxValueLength, out document, out error);

    /// <summary>Parses one endpoint document (an etcd <c>endpoints/{id}</c> key).</summary>
    public static bool TryParseEndpoint(string json, [NotNullWhen(true)] out EndpointDocument? document, out ValidationError? error)
        => TryParse(json, MeshJsonContext.Default.EndpointDocument, MaxValueLength, out document, out error);

    /// <summary>Parses the mesh-wide settings (the etcd <c>config</c> key).</summary>
    public static bool TryParseSettings(string json, [NotNullWhen(true)] out MeshSettings? document, out ValidationError? error)
        => TryParse(json, MeshJsonContext.Default.MeshSettings, MaxValueLength, out document, out error);

    /// <summary>Writes a document in the contract's shape.</summary>
    public static string Serialize<T>(T document) where T : class
        => JsonSerializer.Serialize(document, typeof(T), MeshJsonContext.Default);

    private static bool TryParse<T>(string json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, int maxLength, [NotNullWhen(true)] out T? document, out ValidationError? error)
        where T : class
    {
        document = null;
        if (json.Length > maxLength)
        {
            error = new ValidationError("$", $"document is {json.Length} characters, over the limit of {maxLength}");
            return false;
        }

        try
        {
            document = JsonSerializer.Deserialize(json, typeInfo);
        }
        catch (JsonException ex)
        {
            error = new ValidationError(ex.Path ?? "$", Describe(ex));
            return false;
        }

        if (document is null)
        {
            error = new ValidationError("$", "document is null");
            return false;
        }

        error = null;
        return true;
    }

    private static string Describe(JsonException ex)
    {
        // The serializer's messages name .NET types and repeat the path; an operator fixing a file needs the
        // field, the reason and the position.
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0)
        {
            message = message[..cut];
        }

        const string unmapped = "could not be mapped to any .NET member";
        if (message.Contains(unmapped, StringComparison.Ordinal))
        {
            var name = message.Split('\'')[1];
            message = $"unknown field '{name}' (field names are camelCase and case-sensitive)";
        }
        else if (message.Contains("could not be converted", StringComparison.Ordinal))
        {
            message = "the value could not be converted to the field's type (wrong type: e.g. text where a number, true/false or \"hh:mm:ss\" is expected)";
        }

        return ex.LineNumber is { } line ? $"{message} (line {line + 1}, position {ex.BytePositionInLine + 1})" : message;
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    AllowDuplicateProperties = false,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true,
    MaxDepth = 32)]
[JsonSerializable(typeof(MeshDocument))]
[JsonSerializable(typeof(PolicyDocument))]
[JsonSerializable(typeof(EndpointDocument))]
[JsonSerializable(typeof(MeshSettings))]
internal sealed partial class MeshJsonContext : JsonSerializerContext;
