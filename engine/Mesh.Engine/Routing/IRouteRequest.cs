namespace Mesh.Routing;

/// <summary>
/// A read-only view of an outbound request, as the router needs it. Implemented by value types over the
/// live request object so that matching allocates nothing.
/// </summary>
public interface IRouteRequest
{
    /// <summary>The HTTP method, e.g. <c>GET</c>.</summary>
    string Method { get; }

    /// <summary>The path, without the query.</summary>
    ReadOnlySpan<char> Path { get; }

    /// <summary>The first value of a header, or false if it is absent.</summary>
    bool TryGetHeader(string name, out ReadOnlySpan<char> value);

    /// <summary>The first value of a query parameter (as sent, not unescaped), or false if it is absent.</summary>
    bool TryGetQuery(string name, out ReadOnlySpan<char> value);

    /// <summary>The value of a cookie, or false if it is absent.</summary>
    bool TryGetCookie(string name, out ReadOnlySpan<char> value);
}

/// <summary>Parsing helpers shared by <see cref="IRouteRequest"/> implementations.</summary>
public static class RouteRequestParsing
{
    /// <summary>Finds <paramref name="name"/> in a query string (with or without the leading '?').</summary>
    public static bool TryGetQueryValue(ReadOnlySpan<char> query, string name, out ReadOnlySpan<char> value)
    {
        if (!query.IsEmpty && query[0] == '?')
        {
            query = query[1..];
        }

        while (!query.IsEmpty)
        {
            var end = query.IndexOf('&');
            var pair = end < 0 ? query : query[..end];
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            if (key.SequenceEqual(name))
            {
                value = eq < 0 ? [] : pair[(eq + 1)..];
                return true;
            }

            query = end < 0 ? [] : query[(end + 1)..];
        }

        value = default;
        return false;
    }

    /// <summary>Finds <paramref name="name"/> in a <c>Cookie</c> header value.</summary>
    public static bool TryGetCookieValue(ReadOnlySpan<char> header, string name, out ReadOnlySpan<char> value)
    {
        while (!header.IsEmpty)
        {
            var end = header.IndexOf(';');
            var pair = (end < 0 ? header : header[..end]).Trim();
            var eq = pair.IndexOf('=');
            if (eq > 0 && pair[..eq].Trim().SequenceEqual(name))
            {
                value = pair[(eq + 1)..].Trim().Trim('"');
                return true;
            }

            header = end < 0 ? [] : header[(end + 1)..];
        }

        value = default;
        return false;
    }
}
