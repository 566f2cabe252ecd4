using System.Text.Json.Nodes;

namespace Mesh.Extensions.Admin;

/// <summary>
/// Masks secrets in the document the admin endpoint shows. The admin endpoint can be exposed with a token meant for
/// people who read state, and <c>mesh.callerSigningKey</c> would let its reader sign as any service. Extension settings
/// are free-form, so besides the known key, any string under a secret-sounding property name is masked too.
/// </summary>
internal static class SecretRedaction
{
    /// <summary>What a masked value reads as; it says a value is set without saying what it is.</summary>
    public const string Mask = "(redacted)";

    private static readonly string[] SecretNameEndings = ["signingKey", "secret", "password", "token", "apiKey", "privateKey", "credentials"];

    /// <summary>Masks, in place, every string value under a secret-sounding property name in <paramref name="node"/>.</summary>
    public static void Redact(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    if (value is JsonValue && IsSecretName(name))
                    {
                        obj[name] = Mask;
                    }
                    else
                    {
                        Redact(value);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Redact(item);
                }

                break;
        }
    }

    private static bool IsSecretName(string name) =>
        Array.Exists(SecretNameEndings, ending => name.EndsWith(ending, StringComparison.OrdinalIgnoreCase));
}
