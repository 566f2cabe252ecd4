using System.Net;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Extensions.Governance.Tests;

/// <summary>
/// A real meshed ASP.NET Core service (<c>orders</c>) on 127.0.0.1 with the governance extensions, answering
/// <c>/{anything}</c> with the caller and lane of its mesh context. <see cref="Hold"/> lets a test keep requests to
/// <c>/held</c> open.
/// </summary>
public sealed class GovernedApp : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempFile _config;

    private GovernedApp(WebApplication app, TempFile config)
    {
        _app = app;
        _config = config;
        Address = app.ListeningAddress();
    }

    public string Address { get; }

    public MeshRuntime Runtime => _app.Services.GetRequiredService<MeshRuntime>();

    private int _waiting;

    /// <summary>When set, requests to <c>/held</c> wait for it before answering.</summary>
    public TaskCompletionSource? Hold { get; set; }

    /// <summary>Requests waiting on <see cref="Hold"/> now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Starts the app on rules made by <paramref name="meshJson"/> from its own address.</summary>
    public static async Task<GovernedApp> StartAsync(Func<string, string> meshJson, Action<IMeshBuilder>? configure = null, Action<Mesh.MeshOptions>? options = null)
    {
        var config = new TempFile();
        config.Write("{}");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var mesh = builder.Services.AddMesh(o =>
        {
            o.UseFile(config.Path);
            o.ServiceName = "orders";
            options?.Invoke(o);
        }).AddGovernance();
        configure?.Invoke(mesh);
        var app = builder.Build();
        GovernedApp? governed = null;
        app.Map("/{**path}", async (HttpContext context) =>
        {
            if (governed?.Hold is { } hold && context.Request.Path == "/held")
            {
                Interlocked.Increment(ref governed._waiting);
                await hold.Task;
                Interlocked.Decrement(ref governed._waiting);
            }

            return $"caller={MeshContext.Current?.Caller ?? "-"} lane={MeshContext.Current?.Lane ?? "-"}";
        });
        await app.StartAsync();
        governed = new GovernedApp(app, config);
        await governed.ApplyAsync(meshJson(governed.Address));
        return governed;
    }

    /// <summary>
    /// Calls the app as the caller service <paramref name="name"/> of this process: a runtime of that name, signing
    /// with <paramref name="signingKey"/>, routing a plain HttpClient to <c>http://orders{path}</c>.
    /// </summary>
    public async Task<(HttpStatusCode Status, string Body)> CallAsAsync(string name, string path, string signingKey)
    {
        using var runtime = new MeshRuntime(new MeshRuntimeOptions { ServiceName = name });
        Assert.Empty(runtime.ApplyJson($$"""
            { "mesh": { "callerSigningKey": "{{signingKey}}" },
              "services": { "orders": { "endpoints": [ { "id": "self", "address": "{{Address}}" } ] } } }
            """, "test"));
        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);
        using var client = new HttpClient();
        using var response = await client.GetAsync($"http://orders{path}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Writes new rules and waits until they are in force.</summary>
    public async Task ApplyAsync(string json)
    {
        var version = Runtime.Snapshot.Version;
        _config.Write(json);
        await Eventually.UntilAsync(() => Runtime.Snapshot.Version > version, "the rules to apply");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _config.Dispose();
    }
}
