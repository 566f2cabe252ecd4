using System.Collections.Frozen;

namespace Mesh.Routing;

/// <summary>
/// Finds the first route (in document order) whose conditions hold, without evaluating every route. Each route is
/// filed under one condition every matching request must satisfy — an ordinal exact value or prefix of a header or
/// of the path — or, when it has none, kept in a list that is always evaluated. A request then looks up its own
/// header and path values, and only the routes filed under them are evaluated in full. The first match is the
/// lowest-numbered route that matches among all candidate lists, which is the linear scan's answer: a matching
/// route satisfies the condition it is filed under, so it is always among the candidates.
/// </summary>
internal sealed class RouteIndex
{
    private readonly RequestMatcher[] _matchers;

    // Routes whose one condition is the one they are filed under: found in the index means matched.
    private readonly bool[] _decidedByIndex;
    private readonly int[] _unindexed;
    private readonly FieldIndex? _path;
    private readonly (string Name, FieldIndex Index)[] _headers;

    // Built from the routes' conditions only, so that a service whose endpoints changed under the same policy keeps
    // its index (and matchers) rather than building them again.
    public RouteIndex(RequestMatcher[] matchers)
    {
        _matchers = matchers;
        _decidedByIndex = [.. matchers.Select(m => m.IndexCondition is not null && m.ConditionCount == 1)];
        var unindexed = new List<int>();
        var path = new FieldIndexBuilder();
        var headers = new Dictionary<string, FieldIndexBuilder>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < matchers.Length; i++)
        {
            switch (matchers[i].IndexCondition)
            {
                case null:
                    unindexed.Add(i);
                    break;
                case (null, var keys):
                    path.Add(keys, i);
                    break;
                case (var header, var keys):
                    (headers.TryGetValue(header, out var builder) ? builder : headers[header] = new FieldIndexBuilder()).Add(keys, i);
                    break;
            }
        }

        _unindexed = [.. unindexed];
        _path = path.IsEmpty ? null : path.Build();
        _headers = [.. headers.Select(h => (h.Key, h.Value.Build()))];
    }

    /// <summary>The index of the first route whose conditions hold, or -1 when none does.</summary>
    public int FindFirst<TRequest>(ref TRequest request, string? lane)
        where TRequest : struct, IRouteRequest
    {
        var first = FirstMatch(_unindexed, _matchers.Length, ref request, lane, indexed: false);
        if (_path is not null)
        {
            first = Lookup(_path, request.Path, first, ref request, lane);
        }

        foreach (var (name, index) in _headers)
        {
            // Indexed conditions all need the header present, so an absent header has no candidates.
            if (request.TryGetHeader(name, out var value))
            {
                first = Lookup(index, value, first, ref request, lane);
            }
        }

        return first == _matchers.Length ? -1 : first;
    }

    private int Lookup<TRequest>(FieldIndex index, ReadOnlySpan<char> value, int first, ref TRequest request, string? lane)
        where TRequest : struct, IRouteRequest
    {
        if (index.Exact.TryGetValue(value, out var exact))
        {
            first = FirstMatch(exact, first, ref request, lane, indexed: true);
        }

        foreach (var length in index.PrefixLengths)
        {
            if (length > value.Length)
            {
                break;
            }

            if (index.Prefixes.TryGetValue(value[..length], out var prefixed))
            {
                first = FirstMatch(prefixed, first, ref request, lane, indexed: true);
            }
        }

        return first;
    }

    // Candidates are in ascending order, so the scan stops at the first match or at the best match found so far.
    private int FirstMatch<TRequest>(int[] candidates, int first, ref TRequest request, string? lane, bool indexed)
        where TRequest : struct, IRouteRequest
    {
        foreach (var candidate in candidates)
        {
            if (candidate >= first)
            {
                break;
            }

            if ((indexed && _decidedByIndex[candidate]) || _matchers[candidate].Matches(ref request, lane))
            {
                return candidate;
            }
        }

        return first;
    }

    private sealed record FieldIndex(
        FrozenDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> Exact,
        FrozenDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> Prefixes,
        int[] PrefixLengths);

    private sealed class FieldIndexBuilder
    {
        private readonly Dictionary<string, List<int>> _exact = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<int>> _prefixes = new(StringComparer.Ordinal);

        public bool IsEmpty => _exact.Count == 0 && _prefixes.Count == 0;

        public void Add(IndexKeys keys, int route)
        {
            var into = keys.Prefix ? _prefixes : _exact;
            foreach (var value in keys.Values)
            {
                var routes = into.TryGetValue(value, out var list) ? list : into[value] = [];

                // An 'in' condition can list a value twice; the route is filed once.
                if (routes.Count == 0 || routes[^1] != route)
                {
                    routes.Add(route);
                }
            }
        }

        public FieldIndex Build() => new(
            Freeze(_exact).GetAlternateLookup<ReadOnlySpan<char>>(),
            Freeze(_prefixes).GetAlternateLookup<ReadOnlySpan<char>>(),
            [.. _prefixes.Keys.Select(p => p.Length).Distinct().Order()]);

        private static FrozenDictionary<string, int[]> Freeze(Dictionary<string, List<int>> lists)
            => lists.ToFrozenDictionary(l => l.Key, l => l.Value.ToArray(), StringComparer.Ordinal);
    }
}
