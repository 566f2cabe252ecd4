using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mesh.Extensions.Governance;

/// <summary>Reads extension settings with the same rules as the mesh documents: camelCase, unknown fields rejected.</summary>
internal static class SettingsJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    public static T Parse<T>(JsonElement element)
        where T : class
        => element.Deserialize<T>(Options) ?? throw new JsonException("settings are null");

    /// <summary>Parse errors, or else what <paramref name="validate"/> finds wrong with the parsed settings.</summary>
    public static IEnumerable<string> Validate<T>(JsonElement element, Func<T, IEnumerable<string>> validate)
        where T : class
    {
        T settings;
        try
        {
            settings = Parse<T>(element);
        }
        catch (JsonException ex)
        {
            return [ex.Path is { Length: > 1 } path ? $"{path}: {FirstSentence(ex.Message)}" : FirstSentence(ex.Message)];
        }

        return validate(settings);
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
