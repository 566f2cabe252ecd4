using System.Runtime.CompilerServices;
using System.Text.Json;
using Mesh.Routing;

namespace Mesh.Extensibility;

/// <summary>
/// An extension's typed settings for each service, read from <c>policy.extensions.{name}</c> once per compiled
/// service (so once per snapshot, not per request) and dropped with the snapshot.
/// </summary>
/// <typeparam name="T">The settings type.</typeparam>
public sealed class ExtensionSettings<T>
    where T : class
{
    private readonly string _name;
    private readonly Func<JsonElement, T> _parse;
    private readonly ConditionalWeakTable<MeshService, StrongBox<T?>> _byService = [];

    /// <summary>Reads the settings named <paramref name="name"/> with <paramref name="parse"/>.</summary>
    public ExtensionSettings(string name, Func<JsonElement, T> parse)
    {
        _name = name;
        _parse = parse;
    }

    /// <summary>
    /// The settings for <paramref name="service"/>, or null when its policy has none. Settings that do not parse
    /// count as none: the validator rejects them before they reach a snapshot, except in a runtime that was
    /// configured before the extension joined it.
    /// </summary>
    public T? For(MeshService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        return _byService.GetValue(service, s => new StrongBox<T?>(Parse(s))).Value;
    }

    private T? Parse(MeshService service)
    {
        if (service.Policy.Extensions?.TryGetValue(_name, out var element) != true)
        {
            return null;
        }

        try
        {
            return _parse(element);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
