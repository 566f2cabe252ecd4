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
    private static readonly Entry None = new(null, Invalid: false);
    private static readonly Entry Unusable = new(null, Invalid: true);

    private readonly string _name;
    private readonly Func<JsonElement, T> _parse;
    private readonly Func<JsonElement, IEnumerable<string>>? _validate;
    private readonly ConditionalWeakTable<MeshService, Entry>.CreateValueCallback _create;
    private readonly ConditionalWeakTable<MeshService, Entry> _byService = [];

    /// <summary>Reads the settings named <paramref name="name"/> with <paramref name="parse"/>.</summary>
    /// <param name="name">The extension's name, the key under <c>policy.extensions</c>.</param>
    /// <param name="parse">Reads the settings; may throw <see cref="JsonException"/> on settings it cannot read.</param>
    /// <param name="validate">
    /// The extension's settings validator. Settings it finds problems with count as none: a document applied before
    /// the extension joined the runtime (as under the startup hook) was never checked by it, and the runtime only
    /// reports such settings, it cannot take back the document.
    /// </param>
    public ExtensionSettings(string name, Func<JsonElement, T> parse, Func<JsonElement, IEnumerable<string>>? validate = null)
    {
        _name = name;
        _parse = parse;
        _validate = validate;

        // Made once: a lambda passed on each call would be a new delegate per request.
        _create = Parse;
    }

    /// <summary>
    /// The settings for <paramref name="service"/>, or null when its policy has none. Settings that do not parse
    /// (or, given a validator, are invalid) count as none: the validator rejects them before they reach a
    /// snapshot, except in a runtime that was configured before the extension joined it.
    /// </summary>
    public T? For(MeshService service) => For(service, out _);

    /// <summary>
    /// The settings for <paramref name="service"/>, as <see cref="For(MeshService)"/>; <paramref name="invalid"/> tells
    /// settings that count as none because they do not parse or are invalid from settings that are absent. An extension
    /// that guards access fails closed on those.
    /// </summary>
    public T? For(MeshService service, out bool invalid)
    {
        ArgumentNullException.ThrowIfNull(service);
        var entry = _byService.TryGetValue(service, out var cached) ? cached : _byService.GetValue(service, _create);
        invalid = entry.Invalid;
        return entry.Value;
    }

    private Entry Parse(MeshService service)
    {
        if (service.Policy.Extensions?.TryGetValue(_name, out var element) != true)
        {
            return None;
        }

        try
        {
            return _validate is not null && _validate(element).Any() ? Unusable : new Entry(_parse(element), Invalid: false);
        }
        catch (Exception)
        {
            // Settings that cannot be read or checked must not fail every request that asks for them: the result is
            // cached as unusable, and the runtime reported the problem when it validated them.
            return Unusable;
        }
    }

    private sealed record Entry(T? Value, bool Invalid);
}
