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

    /// <summary>Creates a view of <paramref name="request"/> whose path is <paramref name="path"/> (e.g. <see cref="NormalizedPath"/>).</summary>
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
    /// The request's path as the app's router reaches it, for rules that guard paths: path base and path, with an
    /// encoded slash (<c>%2F</c>, which ASP.NET Core leaves encoded) decoded, empty segments (<c>//</c>) collapsed and
    /// dot segments (<c>/./</c>, <c>/../</c>) resolved, so that none of them passes a rule for the path it leads to.
    /// Case is kept: compare it ignoring case, as routing does.
    /// </summary>
    public static string NormalizedPath(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var raw = (request.PathBase + request.Path).Value ?? "/";
        var decoded = raw.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        var segments = new List<string>();
        foreach (var segment in decoded.Split('/'))
        {
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (segments.Count > 0)
                {
                    segments.RemoveAt(segments.Count - 1);
                }

                continue;
            }

            segments.Add(segment);
        }

        var trailing = decoded.Length > 1 && decoded.EndsWith('/') && segments.Count > 0 ? "/" : "";
        return "/" + string.Join('/', segments) + trailing;
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
