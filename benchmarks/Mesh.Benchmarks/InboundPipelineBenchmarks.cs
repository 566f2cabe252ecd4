using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.Benchmarks;

/// <summary>
/// What the inbound side of the mesh (<c>AddMeshInbound().AddGovernance()</c>, as the startup hook adds it to a web
/// host) adds to a request: the app's request pipeline as ASP.NET Core composes it (the startup filters of the
/// services, then the app's terminal handler), invoked with a fresh <see cref="DefaultHttpContext"/> per request and
/// no server, so that what is timed is the middleware rather than the scheduling of a server's threads. Cases: a
/// request with no mesh context to a service with no inbound rule, and one carrying a lane and baggage. Each case
/// runs in its own process.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class InboundPipelineBenchmarks
{
    private IHost _host = null!;
    private RequestDelegate _pipeline = null!;
    private IServiceProvider _services = null!;
    private string? _configPath;

    [GlobalSetup(Target = nameof(Unmeshed))]
    public void SetupUnmeshed() => Start(mesh: false);

    [GlobalSetup(Targets = [nameof(MeshedWithoutContext), nameof(MeshedWithLaneAndBaggage)])]
    public void SetupMeshed() => Start(mesh: true);

    [GlobalCleanup]
    public void Cleanup()
    {
        _host.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
        if (_configPath is not null)
        {
            File.Delete(_configPath);
        }
    }

    [Benchmark(Baseline = true, Description = "inbound request, no mesh")]
    public Task Unmeshed() => InvokeAsync(lane: false);

    [Benchmark(Description = "inbound request, mesh inbound + governance, no mesh context, no rule")]
    public Task MeshedWithoutContext() => InvokeAsync(lane: false);

    [Benchmark(Description = "inbound request, mesh inbound + governance, lane and baggage restored")]
    public Task MeshedWithLaneAndBaggage() => InvokeAsync(lane: true);

    private void Start(bool mesh)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        if (mesh)
        {
            _configPath = Path.GetTempFileName();
            File.WriteAllText(_configPath, """
                { "mesh": { "serviceName": "shop" },
                  "services": { "shop": { "endpoints": [ { "id": "s1", "address": "http://127.0.0.1:5000" } ] } } }
                """);
            builder.Services.AddMesh(options => options.UseFile(_configPath)).AddMeshInbound().AddGovernance();
        }

        _host = builder.Build();
        _host.StartAsync().GetAwaiter().GetResult();
        _services = _host.Services;

        // As ASP.NET Core's web host composes it: every startup filter around the app's own pipeline.
        Action<IApplicationBuilder> configure = app => app.Run(static context =>
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            return Task.CompletedTask;
        });
        foreach (var filter in _services.GetServices<IStartupFilter>().Reverse())
        {
            configure = filter.Configure(configure);
        }

        var application = new ApplicationBuilder(_services);
        configure(application);
        _pipeline = application.Build();
    }

    private Task InvokeAsync(bool lane)
    {
        var context = new DefaultHttpContext { RequestServices = _services };
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = "/";
        if (lane)
        {
            context.Request.Headers["x-mesh-lane"] = "gray";
            context.Request.Headers["baggage"] = "tenant=7";
        }

        return _pipeline(context);
    }
}
