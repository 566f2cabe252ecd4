using System.Net;
using System.Security.Cryptography;
using System.Text;
using Mesh.AspNetCore;
using Mesh.Runtime;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Mesh.Extensions.Admin;

/// <summary>
/// Answers the admin path with <see cref="MeshAdminReport"/>; every other request goes on. Runs first among inbound
/// extensions so that rate limits or authorization meant for the app do not hide the mesh's own state.
/// </summary>
internal sealed class MeshAdminExtension : IInboundExtension
{
    private readonly MeshRuntime _runtime;
    private readonly MeshAdminOptions _options;
    private readonly byte[]? _token;

    public MeshAdminExtension(MeshRuntime runtime, IOptions<MeshAdminOptions> options)
    {
        _runtime = runtime;
        _options = options.Value;
        _token = _options.Token is { Length: > 0 } token ? Encoding.UTF8.GetBytes(token) : null;
    }

    public string Name => "admin";

    public int Order => int.MinValue;

    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.Request.Path.Equals(_options.Path, StringComparison.OrdinalIgnoreCase))
        {
            return next(context);
        }

        // A proxy on this host (the mesh's gateway, a local nginx) connects from loopback on someone else's behalf, and
        // its forwarding headers say so: without a token such a request is as remote as its client.
        if ((!_options.AllowRemote && !IsLoopback(context.Connection)) || (_token is null && IsForwarded(context.Request)))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        if (_token is not null && !HasToken(context.Request))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Task.CompletedTask;
        }

        if (!HttpMethods.IsGet(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return Task.CompletedTask;
        }

        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        return MeshAdminReport.WriteAsync(context.Response.Body, _runtime, context.RequestAborted);
    }

    // A connection without a remote address is in-process (TestServer, named pipes): as local as loopback.
    private static bool IsLoopback(ConnectionInfo connection)
        => connection.RemoteIpAddress is not { } remote || IPAddress.IsLoopback(remote);

    private static bool IsForwarded(HttpRequest request)
        => request.Headers.ContainsKey("Forwarded") || request.Headers.ContainsKey("X-Forwarded-For")
            || request.Headers.ContainsKey("X-Forwarded-Host") || request.Headers.ContainsKey("X-Real-IP");

    private bool HasToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        return header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim()), _token);
    }
}
