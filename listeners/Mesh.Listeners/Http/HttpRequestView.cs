using Mesh.Routing;

namespace Mesh.Http;

/// <summary>
/// An <see cref="IRouteRequest"/> over a live <see cref="HttpRequestMessage"/>, reading without copying; outbound
/// extensions use it to evaluate <c>match</c> conditions (<see cref="RequestMatcher"/>).
/// </summary>
public struct HttpRequestView : IRouteRequest
{
    private readonly HttpRequestMessage _request;
    private readonly Uri _uri;
    private string? _pathAndQuery;

    /// <summary>Creates a view of <paramref name="request"/>, whose address is <paramref name="uri"/>.</summary>
    public HttpRequestView(HttpRequestMessage request, Uri uri)
    {
        _request = request;
        _uri = uri;
    }

    /// <inheritdoc />
    public readonly string Method => _request.Method.Method;

    /// <inheritdoc />
    public ReadOnlySpan<char> Path
    {
        get
        {
            var pathAndQuery = _pathAndQuery ??= _uri.PathAndQuery;
            var query = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
            return query < 0 ? pathAndQuery : pathAndQuery.AsSpan(0, query);
        }
    }

    /// <inheritdoc />
    public readonly bool TryGetHeader(string name, out ReadOnlySpan<char> value)
    {
        // NonValidated reads the stored value as is, without parsing or allocating a collection.
        if (_request.Headers.NonValidated.TryGetValues(name, out var values) && values.Count > 0)
        {
            foreach (var first in values)
            {
                value = first;
                return true;
            }
        }

        value = default;
        return false;
    }

    /// <inheritdoc />
    public bool TryGetQuery(string name, out ReadOnlySpan<char> value)
    {
        var pathAndQuery = _pathAndQuery ??= _uri.PathAndQuery;
        var query = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        if (query < 0)
        {
            value = default;
            return false;
        }

        return RouteRequestParsing.TryGetQueryValue(pathAndQuery.AsSpan(query), name, out value);
    }

    /// <inheritdoc />
    public readonly bool TryGetCookie(string name, out ReadOnlySpan<char> value)
    {
        if (_request.Headers.NonValidated.TryGetValues("Cookie", out var values))
        {
            foreach (var header in values)
            {
                if (RouteRequestParsing.TryGetCookieValue(header, name, out value))
                {
                    return true;
                }
            }
        }

        value = default;
        return false;
    }
}
