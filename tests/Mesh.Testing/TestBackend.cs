using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Testing;

/// <summary>
/// A real Kestrel server on 127.0.0.1 with a free port. By default every request is answered with the backend's
/// id in the body and the request headers it saw echoed as <c>x-seen-*</c>; tests can replace the handler.
/// </summary>
public sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private TestBackend(string id, WebApplication app)
    {
        Id = id;
        _app = app;
    }

    /// <summary>The backend's name, returned as the body.</summary>
    public string Id { get; }

    /// <summary><c>http://127.0.0.1:{port}</c>.</summary>
    public string Address { get; private set; } = "";

    /// <summary>The port bound.</summary>
    public int Port { get; private set; }

    /// <summary>Requests handled so far.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>A copy of the most recent request's headers (Kestrel reuses its own header objects).</summary>
    public IReadOnlyDictionary<string, string> LastHeaders { get; private set; } = new Dictionary<string, string>();

    /// <summary>When set, handles requests instead of the default answer.</summary>
    public Func<HttpContext, Task>? Handler { get; set; }

    /// <summary>Answers every request with <paramref name="statusCode"/> and no body from now on (a failing instance).</summary>
    public void AnswerWith(int statusCode) => Handler = context =>
    {
        context.Response.StatusCode = statusCode;
        return Task.CompletedTask;
    };

    /// <summary>Starts a backend.</summary>
    public static async Task<TestBackend> StartAsync(string id, Action<WebApplication>? map = null, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var backend = new TestBackend(id, app);
        map?.Invoke(app);
        app.Run(async context =>
        {
            Interlocked.Increment(ref backend._requests);
            backend.LastHeaders = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            if (backend.Handler is { } handler)
            {
                await handler(context);
                return;
            }

            foreach (var header in context.Request.Headers)
            {
                context.Response.Headers[$"x-seen-{header.Key}"] = header.Value;
            }

            context.Response.Headers["x-backend"] = id;
            await context.Response.WriteAsync(id);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        backend.Address = address.TrimEnd('/');
        backend.Port = new Uri(address).Port;
        return backend;
    }

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
