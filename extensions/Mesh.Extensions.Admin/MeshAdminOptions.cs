namespace Mesh.Extensions.Admin;

/// <summary>Options of the mesh admin endpoint.</summary>
public sealed class MeshAdminOptions
{
    /// <summary>The path the endpoint answers on. Default <c>/mesh/admin</c>.</summary>
    public string Path { get; set; } = "/mesh/admin";

    /// <summary>
    /// Answer requests from other hosts too. Off by default: only loopback callers are answered, everyone else gets
    /// 404 as if the endpoint did not exist. Turning it on requires <see cref="Token"/>. Without a token, a request
    /// that came through a proxy (it carries <c>Forwarded</c>, <c>X-Forwarded-For</c>, <c>X-Forwarded-Host</c> or
    /// <c>X-Real-IP</c>) gets 404 too, even from loopback: the proxy's hop is local, its client is not.
    /// </summary>
    public bool AllowRemote { get; set; }

    /// <summary>
    /// A bearer token callers must send (<c>Authorization: Bearer {token}</c>). Required when <see cref="AllowRemote"/>
    /// is on; optional (but then enforced) for loopback-only use.
    /// </summary>
    public string? Token { get; set; }
}
