using System.Diagnostics.CodeAnalysis;
using System.Reflection;

namespace Mesh;

/// <summary>
/// Reads one named property from diagnostic event payloads, whose types are usually internal. The accessor is
/// built once for the payload type seen and reused; a payload of another type rebuilds it.
/// </summary>
/// <typeparam name="T">The property's type (or a base type of it).</typeparam>
public sealed class PropertyFetcher<T>
{
    private readonly string _propertyName;
    private Accessor? _accessor;

    /// <summary>Creates a fetcher for <paramref name="propertyName"/>.</summary>
    public PropertyFetcher(string propertyName) => _propertyName = propertyName;

    /// <summary>Reads the property; false when the payload has no such readable property of type <typeparamref name="T"/>.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Payload types of the framework's diagnostic events keep their public properties.")]
    public bool TryFetch(object? payload, [MaybeNullWhen(false)] out T value)
    {
        if (payload is null)
        {
            value = default;
            return false;
        }

        var accessor = _accessor;
        var type = payload.GetType();
        if (accessor is null || accessor.Type != type)
        {
            var property = type.GetProperty(_propertyName, BindingFlags.Instance | BindingFlags.Public);
            var getter = property is { CanRead: true } && typeof(T).IsAssignableFrom(property.PropertyType) ? property.GetMethod : null;
            accessor = new Accessor(type, getter is null ? null : CreateGetter(getter));
            _accessor = accessor;
        }

        if (accessor.Get is null)
        {
            value = default;
            return false;
        }

        value = accessor.Get(payload);
        return value is not null;
    }

    private static Func<object, T> CreateGetter(MethodInfo getter)
    {
        // A typed open delegate over the declaring type, wrapped once: no boxing of the target, no per-call reflection.
        var factory = typeof(PropertyFetcher<T>).GetMethod(nameof(CreateTyped), BindingFlags.NonPublic | BindingFlags.Static)!
            .MakeGenericMethod(getter.DeclaringType!, getter.ReturnType);
        return (Func<object, T>)factory.Invoke(null, [getter])!;
    }

    private static Func<object, T> CreateTyped<TDeclaring, TProperty>(MethodInfo getter)
        where TProperty : T
    {
        var typed = getter.CreateDelegate<Func<TDeclaring, TProperty>>();
        return payload => typed((TDeclaring)payload);
    }

    private sealed record Accessor(Type Type, Func<object, T>? Get);
}
