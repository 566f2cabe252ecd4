using System.Collections;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Mesh.Routing;

/// <summary>
/// A snapshot's services by name, ignoring case as host names do. The names are a frozen index into an array of
/// services: a change that keeps the set of names (every endpoint or policy change) shares the previous snapshot's
/// index and builds only the array, and lookups keep the frozen index's speed. Only a new or removed service builds
/// a new index.
/// </summary>
internal sealed class ServiceMap : IReadOnlyDictionary<string, MeshService>
{
    private readonly FrozenDictionary<string, int> _index;
    private readonly FrozenDictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _byHost;
    private readonly MeshService[] _services;

    private ServiceMap(FrozenDictionary<string, int> index, MeshService[] services)
    {
        _index = index;
        _byHost = index.GetAlternateLookup<ReadOnlySpan<char>>();
        _services = services;
    }

    public static ServiceMap Empty { get; } = new(FrozenDictionary.ToFrozenDictionary<string, int>([], StringComparer.OrdinalIgnoreCase), []);

    public int Count => _services.Length;

    public IEnumerable<string> Keys => _index.Keys;

    public IEnumerable<MeshService> Values => _services;

    public MeshService this[string key] => TryGetValue(key, out var service) ? service : throw new KeyNotFoundException($"no service '{key}'");

    /// <summary>
    /// The map of <paramref name="services"/> (whose names differ ignoring case); shares <paramref name="previous"/>'s
    /// index when the names are the same.
    /// </summary>
    public static ServiceMap Create(IReadOnlyList<MeshService> services, ServiceMap? previous)
    {
        if (previous is not null && previous.Count == services.Count)
        {
            var array = new MeshService[services.Count];
            var same = true;
            foreach (var service in services)
            {
                if (!previous._index.TryGetValue(service.Name, out var position) || array[position] is not null
                    || !string.Equals(previous._services[position].Name, service.Name, StringComparison.Ordinal))
                {
                    same = false;
                    break;
                }

                array[position] = service;
            }

            if (same)
            {
                return new ServiceMap(previous._index, array);
            }
        }

        // Validation keeps names that differ only in case apart (refused within a document, one service across
        // layers); should two still meet, the later wins rather than failing the compile.
        var positions = new Dictionary<string, MeshService>(services.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var service in services)
        {
            positions[service.Name] = service;
        }

        var index = positions.Keys.Select((name, i) => KeyValuePair.Create(name, i)).ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        var ordered = new MeshService[positions.Count];
        foreach (var (name, service) in positions)
        {
            ordered[index[name]] = service;
        }

        return new ServiceMap(index, ordered);
    }

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out MeshService value) => TryGetValue(key.AsSpan(), out value);

    public bool TryGetValue(ReadOnlySpan<char> host, [MaybeNullWhen(false)] out MeshService value)
    {
        if (_byHost.TryGetValue(host, out var position))
        {
            value = _services[position];
            return true;
        }

        value = null;
        return false;
    }

    public bool ContainsKey(string key) => _index.ContainsKey(key);

    public IEnumerator<KeyValuePair<string, MeshService>> GetEnumerator()
    {
        foreach (var service in _services)
        {
            yield return KeyValuePair.Create(service.Name, service);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
