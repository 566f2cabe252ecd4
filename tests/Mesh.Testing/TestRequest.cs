using Mesh.Routing;

namespace Mesh.Testing;

/// <summary>An in-memory request for router tests.</summary>
public struct TestRequest : IRouteRequest
{
    public TestRequest()
        : this("GET")
    {
    }

    public TestRequest(string method, string path = "/", Dictionary<string, string>? headers = null, string query = "", string? cookie = null)
    {
        Method = method;
        PathValue = path;
        Headers = headers ?? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        Query = query;
        Cookie = cookie;
    }

    public string Method { get; }

    public string PathValue { get; }

    public Dictionary<string, string> Headers { get; }

    public string Query { get; }

    public string? Cookie { get; }

    public readonly ReadOnlySpan<char> Path => PathValue;

    public readonly bool TryGetHeader(string name, out ReadOnlySpan<char> value)
    {
        var found = Headers.TryGetValue(name, out var text);
        value = text;
        return found;
    }

    public readonly bool TryGetQuery(string name, out ReadOnlySpan<char> value) => RouteRequestParsing.TryGetQueryValue(Query, name, out value);

    public readonly bool TryGetCookie(string name, out ReadOnlySpan<char> value)
    {
        if (Cookie is null)
        {
            value = default;
            return false;
        }

        return RouteRequestParsing.TryGetCookieValue(Cookie, name, out value);
    }

    public static TestRequest WithHeader(string name, string value)
        => new("GET", headers: new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { [name] = value });
}
