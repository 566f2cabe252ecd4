using Mesh.Routing;
using Microsoft.AspNetCore.Http;

namespace Mesh.AspNetCore;

/// <summary>
/// An <see cref="IRouteRequest"/> over an inbound ASP.NET Core request, so inbound extensions can evaluate the same
/// <c>match</c> conditions as routes (<see cref="RequestMatcher"/>) without copying the request.
/// </summary>
public readonly struct InboundRequestView : IRouteRequest
{
    private readonly HttpRequest _request;
    private readonly string? _path;

    /// <summary>Creates a view of <paramref name="request"/>.</summary>
    public InboundRequestView(HttpRequest request) => _request = request;

    /// <summary>Creates a view of <paramref name="request"/> whose path is <paramref name="path"/> (e.g. <see cref="AlternatePath(HttpRequest)"/>).</summary>
    public InboundRequestView(HttpRequest request, string path)
    {
        _request = request;
        _path = path;
    }

    /// <inheritdoc />
    public string Method => _request.Method;

    /// <inheritdoc />
    public ReadOnlySpan<char> Path => _path ?? (_request.PathBase + _request.Path).Value ?? "/";

    /// <summary>
    /// The request's path as the app's router may also read it, for rules that guard paths: path base and path, with
    /// an encoded slash (<c>%2F</c>, which ASP.NET Core leaves encoded) decoded, empty segments (<c>//</c>) collapsed
    /// and a trailing slash dropped (routing treats <c>/admin/</c> as <c>/admin</c>). Dot segments are left alone:
    /// the server resolved the real ones already, and one that only appears once <c>%2F</c> is decoded
    /// (<c>/admin/..%2Fusers</c>) is not one the router resolves. Null when that is the path as it stands, so a
    /// rule can check both and cost nothing more for ordinary paths. Case is kept: compare it ignoring case, as
    /// routing does.
    /// </summary>
    public static string? AlternatePath(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AlternatePath((request.PathBase + request.Path).Value ?? "/");
    }

    /// <summary>
    /// The alternate form of <paramref name="raw"/>, a path as ASP.NET Core holds it, as <see cref="AlternatePath(HttpRequest)"/>
    /// makes it for a request's; null when it is the same.
    /// </summary>
    public static string? AlternatePath(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (!raw.Contains('%', StringComparison.Ordinal) && !raw.Contains("//", StringComparison.Ordinal) && !(raw.Length > 1 && raw.EndsWith('/')))
        {
            return null;
        }

        var decoded = raw.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        var collapsed = new System.Text.StringBuilder(decoded.Length);
        foreach (var c in decoded)
        {
            if (c != '/' || collapsed.Length == 0 || collapsed[^1] != '/')
            {
                collapsed.Append(c);
            }
        }

        if (collapsed.Length > 1 && collapsed[^1] == '/')
        {
            collapsed.Length--;
        }

        return collapsed.ToString();
    }

    /// <inheritdoc />
    public bool TryGetHeader(string name, out ReadOnlySpan<char> value) => Found(_request.Headers[name].ToString(), out value);

    /// <inheritdoc />
    public bool TryGetQuery(string name, out ReadOnlySpan<char> value)
        => RouteRequestParsing.TryGetQueryValue(_request.QueryString.Value, name, out value);

    /// <inheritdoc />
    public bool TryGetCookie(string name, out ReadOnlySpan<char> value) => Found(_request.Cookies[name], out value);

    private static bool Found(string? text, out ReadOnlySpan<char> value)
    {
        value = text;
        return !string.IsNullOrEmpty(text);
    }
}
