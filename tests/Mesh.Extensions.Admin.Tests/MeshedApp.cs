using System.Net;
using Mesh.Extensions.Admin;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Extensions.Admin.Tests;

/// <summary>
/// A real meshed ASP.NET Core app on 127.0.0.1 with the admin endpoint. Requests carrying <c>x-test-remote</c> are
/// made to look as if they came from that address, as the forwarded-headers middleware of a proxied app would.
/// </summary>
public sealed class MeshedApp : IAsyncDisposable
{
    public const string RemoteHeader = "x-test-remote";

    private readonly WebApplication _app;
    private readonly TempFile _config;

    private MeshedApp(WebApplication app, TempFile config, string address)
    {
        _app = app;
        _config = config;
        Address = address;
    }

    public string Address { get; }

    public string AdminUrl => $"{Address}/mesh/admin";

    public MeshRuntime Runtime => _app.Services.GetRequiredService<MeshRuntime>();

    public static async Task<MeshedApp> StartAsync(string meshJson, Action<MeshAdminOptions>? admin = null)
    {
        var config = new TempFile();
        config.Write(meshJson);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddTransient<IStartupFilter, RemoteAddressFilter>();
        builder.Services.AddMesh(o => o.UseFile(config.Path)).AddMeshAdmin(admin);
        var app = builder.Build();
        app.MapGet("/hello", () => "hello");
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            config.Dispose();
            throw;
        }

        var address = app.ListeningAddress();
        var meshed = new MeshedApp(app, config, address);
        await Eventually.UntilAsync(() => meshed.Runtime.Snapshot.Version > 0, "the mesh file applied");
        return meshed;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _config.Dispose();
    }

    private sealed class RemoteAddressFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(RemoteHeader, out var remote))
                {
                    context.Connection.RemoteIpAddress = IPAddress.Parse(remote.ToString());
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
