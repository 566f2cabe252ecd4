using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Mesh.Extensions.Yarp;

/// <summary>The gateway's rule for the lane of a request from outside: its cookie, then its header, if allowed.</summary>
internal sealed class EdgeLaneRule(IOptions<MeshGatewayOptions> options)
{
    private readonly MeshGatewayOptions _options = options.Value;

    public string? LaneOf(HttpRequest request)
    {
        var lane = _options.LaneFromCookie is { } cookie && request.Cookies.TryGetValue(cookie, out var fromCookie) && fromCookie.Length > 0
            ? fromCookie
            : _options.LaneFromHeader is { } header && request.Headers[header].ToString() is { Length: > 0 } fromHeader ? fromHeader : null;
        return lane is not null && (_options.AllowedLanes.Count == 0 || _options.AllowedLanes.Contains(lane)) ? lane : null;
    }
}
