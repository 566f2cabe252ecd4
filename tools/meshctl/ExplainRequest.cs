using Mesh.Routing;

namespace Mesh.Cli;

/// <summary>A request described on the command line (<c>--method --path --header --query --cookie</c>).</summary>
internal readonly struct ExplainRequest : IRouteRequest
{
    private readonly IReadOnlyDictionary<string, string> _headers;
    private readonly IReadOnlyDictionary<string, string> _query;
    private readonly IReadOnlyDictionary<string, string> _cookies;
    private readonly string _path;

    public ExplainRequest(string method, string path, IReadOnlyDictionary<string, string> headers,
        IReadOnlyDictionary<string, string> query, IReadOnlyDictionary<string, string> cookies)
    {
        Method = method;
        _path = path;
        _headers = headers;
        _query = query;
        _cookies = cookies;
    }

    public string Method { get; }

    public ReadOnlySpan<char> Path => _path;

    public bool TryGetHeader(string name, out ReadOnlySpan<char> value) => TryGet(_headers, name, out value);

    public bool TryGetQuery(string name, out ReadOnlySpan<char> value) => TryGet(_query, name, out value);

    public bool TryGetCookie(string name, out ReadOnlySpan<char> value) => TryGet(_cookies, name, out value);

    private static bool TryGet(IReadOnlyDictionary<string, string> values, string name, out ReadOnlySpan<char> value)
    {
        var found = values.TryGetValue(name, out var text);
        value = text;
        return found;
    }
}
