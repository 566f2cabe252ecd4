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

    /// <summary>Creates a view of <paramref name="request"/>.</summary>
    public InboundRequestView(HttpRequest request) => _request = request;

    /// <inheritdoc />
    public string Method => _request.Method;

    /// <inheritdoc />
    public ReadOnlySpan<char> Path => (_request.PathBase + _request.Path).Value ?? "/";

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
