using Mesh.Configuration;

namespace Mesh.Routing;

/// <summary>The compiled conditions of one route. All must hold.</summary>
public sealed class RequestMatcher
{
    private readonly StringMatcher? _method;
    private readonly StringMatcher? _path;
    private readonly StringMatcher? _lane;
    private readonly NamedMatcher[] _headers;
    private readonly NamedMatcher[] _query;
    private readonly NamedMatcher[] _cookies;

    private RequestMatcher(MatchDocument? match)
    {
        _method = match?.Method is { } method ? StringMatcher.Create(method) : null;
        _path = match?.Path is { } path ? StringMatcher.Create(path) : null;
        _lane = match?.Lane is { } lane ? StringMatcher.Create(lane) : null;
        _headers = Compile(match?.Headers);
        _query = Compile(match?.Query);
        _cookies = Compile(match?.Cookies);
    }

    /// <summary>A matcher that accepts every request.</summary>
    public static RequestMatcher Any { get; } = new(null);

    /// <summary>Compiles validated conditions.</summary>
    public static RequestMatcher Create(MatchDocument? match) => match is null ? Any : new RequestMatcher(match);

    /// <summary>Whether every condition holds for the request in the given lane.</summary>
    public bool Matches<TRequest>(ref TRequest request, string? lane)
        where TRequest : struct, IRouteRequest
    {
        if (_method is not null && !_method.Matches(true, request.Method))
        {
            return false;
        }

        if (_path is not null && !_path.Matches(true, request.Path))
        {
            return false;
        }

        if (_lane is not null && !_lane.Matches(lane is not null, lane))
        {
            return false;
        }

        foreach (var header in _headers)
        {
            var present = request.TryGetHeader(header.Name, out var value);
            if (!header.Matcher.Matches(present, value))
            {
                return false;
            }
        }

        foreach (var query in _query)
        {
            var present = request.TryGetQuery(query.Name, out var value);
            if (!query.Matcher.Matches(present, value))
            {
                return false;
            }
        }

        foreach (var cookie in _cookies)
        {
            var present = request.TryGetCookie(cookie.Name, out var value);
            if (!cookie.Matcher.Matches(present, value))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>How many conditions the matcher checks.</summary>
    internal int ConditionCount
        => (_method is null ? 0 : 1) + (_path is null ? 0 : 1) + (_lane is null ? 0 : 1) + _headers.Length + _query.Length + _cookies.Length;

    /// <summary>
    /// The condition a route index files this route under: a header or the path, exact before prefix (exact keys
    /// narrow the candidates most), or null when no condition is indexable. Every request this matcher accepts
    /// satisfies it, which is what makes the index exact.
    /// </summary>
    internal (string? Header, IndexKeys Keys)? IndexCondition
    {
        get
        {
            (string? Header, IndexKeys Keys)? best = null;
            foreach (var header in _headers)
            {
                if (header.Matcher.Keys is { } keys && (best is null || (best.Value.Keys.Prefix && !keys.Prefix)))
                {
                    best = (header.Name, keys);
                }
            }

            if (_path?.Keys is { } pathKeys && (best is null || (best.Value.Keys.Prefix && !pathKeys.Prefix)))
            {
                best = (null, pathKeys);
            }

            return best;
        }
    }

    /// <summary>Human-readable conditions, for explain output.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        if (_method is not null)
        {
            parts.Add($"method {_method}");
        }

        if (_path is not null)
        {
            parts.Add($"path {_path}");
        }

        if (_lane is not null)
        {
            parts.Add($"lane {_lane}");
        }

        parts.AddRange(_headers.Select(h => $"header {h.Name} {h.Matcher}"));
        parts.AddRange(_query.Select(q => $"query {q.Name} {q.Matcher}"));
        parts.AddRange(_cookies.Select(c => $"cookie {c.Name} {c.Matcher}"));
        return parts.Count == 0 ? "any request" : string.Join(" and ", parts);
    }

    private static NamedMatcher[] Compile(Dictionary<string, StringMatchDocument>? conditions)
        => conditions is null ? [] : [.. conditions.Select(c => new NamedMatcher(c.Key, StringMatcher.Create(c.Value)))];

    private readonly record struct NamedMatcher(string Name, StringMatcher Matcher);
}
