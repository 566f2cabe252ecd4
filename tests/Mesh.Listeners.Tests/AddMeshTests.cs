using System.Diagnostics;
using Mesh.Extensibility;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.Listeners.Tests;

/// <summary><c>AddMesh()</c> in a real host: IHttpClientFactory clients, the embedded file, live edits.</summary>
public sealed class AddMeshTests
{
    private static string Config(TestBackend backend, string id) => $$"""
        { "mesh": { "serviceName": "frontend" },
          "services": { "orders": { "endpoints": [ { "id": "{{id}}", "address": "{{backend.Address}}" } ] } } }
        """;

    [Fact]
    public async Task FactoryClient_FileConfig_RoutesAndFollowsEdits()
    {
        await using var first = await TestBackend.StartAsync("first");
        await using var second = await TestBackend.StartAsync("second");
        using var file = new TempFile();
        file.Write(Config(first, "a"));
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddMesh(options => options.UseFile(file.Path));
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("orders");
        var runtime = host.Services.GetRequiredService<MeshRuntime>();

        Assert.Equal("first", await client.GetStringAsync("http://orders/"));

        file.Write(Config(second, "b"));
        await Eventually.UntilAsync(() => runtime.Snapshot.Version == 2, "the edit to be applied");
        Assert.Equal("second", await client.GetStringAsync("http://orders/"));
        await host.StopAsync();
    }

    [Fact]
    public async Task AddMesh_NoArguments_ReadsConfigurationSection()
    {
        await using var backend = await TestBackend.StartAsync("configured");
        using var file = new TempFile();
        file.Write(Config(backend, "c"));
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Mesh:ConfigPath"] = file.Path;
        builder.Configuration["Mesh:ServiceName"] = "billing";
        builder.Services.AddMesh();
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        using var response = await client.GetAsync("http://orders/");

        Assert.Equal("configured", await response.Content.ReadAsStringAsync());
        Assert.Equal("billing", response.Headers.GetValues("x-seen-x-mesh-caller").Single());
        await host.StopAsync();
    }

    [Fact]
    public async Task FactoryClient_AfterHostStopped_RuntimeDetached_StillRoutesThroughItsRuntime()
    {
        await using var backend = await TestBackend.StartAsync("still routed");
        using var file = new TempFile();
        file.Write(Config(backend, "s"));
        using var host = await StartHostAsync(file.Path, _ => { });
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
        var runtime = host.Services.GetRequiredService<MeshRuntime>();
        Assert.True(MeshAgent.IsAttached(runtime));

        // Stopping detaches the runtime (as while a host shuts down, when other services may still call out): the
        // client's handler then makes its runtime ambient for the send, and the listener still routes.
        await host.StopAsync();

        Assert.False(MeshAgent.IsAttached(runtime));
        Assert.Equal("still routed", await client.GetStringAsync("http://orders/"));
    }

    [Fact]
    public async Task TwoHostsInOneProcess_EachFactoryClientUsesItsOwnRuntime()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        using var fileA = new TempFile();
        using var fileB = new TempFile();
        fileA.Write(Config(a, "a"));
        fileB.Write(Config(b, "b"));
        using var hostA = Build(fileA.Path);
        using var hostB = Build(fileB.Path);
        await hostA.StartAsync();
        await hostB.StartAsync();

        Assert.Equal("a", await hostA.Services.GetRequiredService<IHttpClientFactory>().CreateClient().GetStringAsync("http://orders/"));
        Assert.Equal("b", await hostB.Services.GetRequiredService<IHttpClientFactory>().CreateClient().GetStringAsync("http://orders/"));
        await hostA.StopAsync();
        await hostB.StopAsync();

        static IHost Build(string path)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Services.AddMesh(o => o.UseFile(path));
            return builder.Build();
        }
    }

    [Fact]
    public async Task MeshEnabledFalse_InFile_TurnsRoutingOffAndOnLive()
    {
        await using var backend = await TestBackend.StartAsync("routed");
        using var file = new TempFile();
        file.Write(Config(backend, "r"));
        using var host = await StartHostAsync(file.Path, _ => { });
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
        var runtime = host.Services.GetRequiredService<MeshRuntime>();
        Assert.Equal("routed", await client.GetStringAsync("http://orders/"));

        file.Write(Config(backend, "r").Replace("\"serviceName\": \"frontend\"", "\"serviceName\": \"frontend\", \"enabled\": false", StringComparison.Ordinal));
        await Eventually.UntilAsync(() => !runtime.Snapshot.Enabled, "the switch-off to be applied");
        var off = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync("http://orders/"));
        Assert.IsNotType<Mesh.Http.MeshRoutingException>(off);

        file.Write(Config(backend, "r"));
        await Eventually.UntilAsync(() => runtime.Snapshot.Enabled, "the switch-on to be applied");
        Assert.Equal("routed", await client.GetStringAsync("http://orders/"));
        await host.StopAsync();
    }

    [Fact]
    public async Task FactoryClient_OutboundExtensionThrowsBeforeHandingOn_RequestSentWithoutIt_FailureCounted()
    {
        await using var backend = await TestBackend.StartAsync("served");
        using var file = new TempFile();
        file.Write(Config(backend, "s"));
        using var host = await StartHostAsync(file.Path, mesh => mesh.AddExtension<ThrowingOutbound>());
        using var failures = new MetricRecorder(host.Services.GetRequiredService<MeshRuntime>().Telemetry.Meter, "mesh.extension.failures");
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        Assert.Equal("served", await client.GetStringAsync("http://orders/"));
        Assert.Equal(1, failures.Sum("mesh.extension.failures"));
        Assert.Equal(1, backend.Requests);
        await host.StopAsync();
    }

    [Fact]
    public async Task FactoryClient_NetworkFailureBehindOutboundExtension_PropagatesUnchanged_NotCountedNorResent()
    {
        var dead = await TestBackend.StartAsync("dead");
        await dead.DisposeAsync();
        using var file = new TempFile();
        file.Write(Config(dead, "d"));
        using var host = await StartHostAsync(file.Path, mesh => mesh.AddExtension<CountingOutbound>());
        using var failures = new MetricRecorder(host.Services.GetRequiredService<MeshRuntime>().Telemetry.Meter, "mesh.extension.failures");
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        var error = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync("http://orders/"));

        Assert.Equal(HttpRequestError.ConnectionError, error.HttpRequestError);
        Assert.Equal(0, failures.Sum("mesh.extension.failures"));
        Assert.Equal(1, host.Services.GetRequiredService<CountingOutbound>().Calls);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddExtension_ConstructorThrows_HostStarts_FailureReportedOnce_OtherExtensionAndRoutingWork()
    {
        await using var backend = await TestBackend.StartAsync("served");
        using var file = new TempFile();
        file.Write(Config(backend, "s"));
        var logs = new TestLoggerFactory();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<ILoggerFactory>(logs);
        builder.Services.AddMesh(o => o.UseFile(file.Path)).AddExtension<ThrowsWhenConstructed>().AddExtension<CountingOutbound>();
        using var host = builder.Build();
        var runtime = host.Services.GetRequiredService<MeshRuntime>();
        using var failures = new MetricRecorder(runtime.Telemetry.Meter, "mesh.extension.failures");

        await host.StartAsync();

        Assert.True(host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.IsCancellationRequested);
        var name = typeof(ThrowsWhenConstructed).FullName!;
        Assert.Contains(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains($"extension {name} failed", StringComparison.Ordinal));
        Assert.IsType<CountingOutbound>(Assert.Single(runtime.Extensions));
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
        Assert.Equal("served", await client.GetStringAsync("http://orders/"));
        Assert.Equal(1, host.Services.GetRequiredService<CountingOutbound>().Calls);

        // Reported once, although the hosted service and the client's handler filter each resolved the extensions.
        Assert.Equal(name, Assert.Single(failures.Measurements).Tag("mesh.extension"));
        await host.StopAsync();
    }

    [Fact]
    public async Task FactoryClient_SubscriberThrowsAfterTheResponse_AttemptAbandoned_NotLeftInFlight()
    {
        await using var backend = await TestBackend.StartAsync("answered");
        using var file = new TempFile();
        file.Write(Config(backend, "a"));
        using var host = await StartHostAsync(file.Path, _ => { });
        var runtime = host.Services.GetRequiredService<MeshRuntime>();
        var outcomes = new OutcomeRecorder();
        runtime.AddObserver(outcomes);
        var state = runtime.Snapshot.Services["orders"].EndpointsById["a"].State;
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
        Assert.Equal("answered", await client.GetStringAsync("http://orders/"));

        // Asked before the mesh whether to raise the response event, in the finally of HttpClient's send: the
        // endpoint answered, but the event that would complete the attempt is never raised. Only the mesh's handler
        // around the send sees the exception go by.
        using var thrower = new ThrowingHttpSubscriber("System.Net.Http.Response", SubscriberFailure.InPredicate);
        thrower.Armed = true;
        await Assert.ThrowsAsync<ThrowingHttpSubscriber.Failure>(() => client.GetStringAsync("http://orders/"));
        thrower.Armed = false;

        Assert.Equal(2, backend.Requests);
        Assert.Equal(0, state.ActiveRequests);

        // Abandoned: neither a request nor a failure of the endpoint, nor an outcome.
        Assert.Equal(1, state.Requests);
        Assert.Equal(0, state.Failures);
        Assert.Equal([OutcomeKind.Success], outcomes.Kinds);
        await host.StopAsync();
    }

    private static async Task<IHost> StartHostAsync(string path, Action<IMeshBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        configure(builder.Services.AddMesh(o => o.UseFile(path)));
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    /// <summary>An extension that cannot be constructed.</summary>
    private sealed class ThrowsWhenConstructed : IOutboundExtension
    {
        public ThrowsWhenConstructed() => throw new InvalidOperationException("constructor fails on purpose");

        public string Name => "throwsWhenConstructed";

        public int Order => 0;

        public DelegatingHandler CreateHandler(MeshRuntime runtime) => throw new UnreachableException();
    }

    /// <summary>An outbound extension whose handler throws before handing the request on.</summary>
    private sealed class ThrowingOutbound : IOutboundExtension
    {
        public string Name => "throwingOutbound";

        public int Order => 0;

        public DelegatingHandler CreateHandler(MeshRuntime runtime) => new Handler();

        private sealed class Handler : DelegatingHandler
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
                => throw new InvalidOperationException("outbound extension fails on purpose");
        }
    }

    /// <summary>An outbound extension that counts the requests it hands on.</summary>
    private sealed class CountingOutbound : IOutboundExtension
    {
        private int _calls;

        public string Name => "countingOutbound";

        public int Order => 0;

        public int Calls => Volatile.Read(ref _calls);

        public DelegatingHandler CreateHandler(MeshRuntime runtime) => new Handler(this);

        private sealed class Handler(CountingOutbound owner) : DelegatingHandler
        {
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                Interlocked.Increment(ref owner._calls);
                return base.SendAsync(request, cancellationToken);
            }
        }
    }
}
