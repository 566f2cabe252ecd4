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

    // The documented rule (README, admin endpoint): a property is secret when its name, ignoring case, contains one of
    // these, or ends in "key" or "keys" (apiKey, accessKey, secretKey, callerSigningKey, apiKeys).
    private static readonly string[] SecretNameParts = ["secret", "password", "passwd", "token", "credential", "connectionstring", "privatekey"];

    // Maps whose keys are names the operator chose (a service called token-service, a tag partitionKey, a condition
    // on x-api-key), not fields: the rule is not applied to those keys, only within their values.
    private static readonly HashSet<string> NamedMaps = new(StringComparer.Ordinal) { "services", "tags", "headers", "query", "cookies", "subset", "extensions" };

    /// <summary>Masks, in place, every value (a string, a number, a list or an object) under a secret property name in <paramref name="node"/>.</summary>
    public static void Redact(JsonNode? node) => Redact(node, namesAreData: false);

    private static void Redact(JsonNode? node, bool namesAreData)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    if (!namesAreData && value is not null && IsSecretName(name))
                    {
                        obj[name] = Mask;
                    }
                    else
                    {
                        Redact(value, !namesAreData && NamedMaps.Contains(name));
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Redact(item, namesAreData: false);
                }

                break;
        }
    }

    private static bool IsSecretName(string name) =>
        Array.Exists(SecretNameParts, part => name.Contains(part, StringComparison.OrdinalIgnoreCase))
        || name.EndsWith("key", StringComparison.OrdinalIgnoreCase) || name.EndsWith("keys", StringComparison.OrdinalIgnoreCase);
}
