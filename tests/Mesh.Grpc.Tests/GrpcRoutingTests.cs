using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Grpc.Net.Client;
using Mesh.Http;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Mesh.Grpc.Tests;

public sealed class GrpcRoutingTests
{
    private static async Task<IHost> ClientHost(TempFile config, IOutcomeObserver? observer = null, Action<IMeshBuilder>? mesh = null)
    {
        var builder = Host.CreateApplicationBuilder();
        var meshBuilder = builder.Services.AddMesh(o => o.UseFile(config.Path));
        mesh?.Invoke(meshBuilder);
        builder.Services.AddGrpcClient<Greeter.GreeterClient>(o => o.Address = new Uri("http://greeter"));
        var host = builder.Build();
        await host.StartAsync();
        if (observer is not null)
        {
            host.Services.GetRequiredService<MeshRuntime>().AddObserver(observer);
        }

        return host;
    }

    [Fact]
    public async Task GrpcClientFactory_ServiceName_RoutedByHeaderRuleAndLane()
    {
        await using var v1 = await GrpcBackend.StartAsync("v1");
        await using var v2 = await GrpcBackend.StartAsync("v2");
        await using var gray = await GrpcBackend.StartAsync("gray");
        using var config = new TempFile();
        config.Write($$"""
            { "services": { "greeter": {
                "endpoints": [ { "id": "v1", "address": "{{v1.Address}}", "tags": { "version": "v1" } },
                               { "id": "v2", "address": "{{v2.Address}}", "tags": { "version": "v2" } },
                               { "id": "gray", "address": "{{gray.Address}}", "tags": { "version": "v2", "lane": "gray" } } ],
                "policy": { "routes": [ { "name": "beta", "match": { "headers": { "x-user": { "prefix": "beta-" } } },
                                          "destinations": [ { "subset": { "version": "v2" } } ] } ] } } } }
            """);
        using var host = await ClientHost(config);
        var client = host.Services.GetRequiredService<Greeter.GreeterClient>();

        var plain = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            plain.Add((await client.SayHelloAsync(new HelloRequest { Name = "x" })).Message);
        }

        var beta = await client.SayHelloAsync(new HelloRequest(), new Metadata { { "x-user", "beta-1" } });
        var lane = await client.SayHelloAsync(new HelloRequest(), new Metadata { { "x-mesh-lane", "gray" } });

        Assert.Equal(["v1", "v1", "v2", "v2"], plain.Order());
        Assert.Equal("v2", beta.Message);
        Assert.Equal("gray [lane gray]", lane.Message);
        await host.StopAsync();
    }

    [Fact]
    public async Task MeshedGrpcServer_LaneFromCallMetadata_CarriedOnToItsOutboundCalls()
    {
        await using var stockBase = await TestBackend.StartAsync("stock-base");
        await using var stockGray = await TestBackend.StartAsync("stock-gray");
        using var relayConfig = new TempFile();
        relayConfig.Write($$"""
            { "services": { "stock": { "endpoints": [ { "id": "base", "address": "{{stockBase.Address}}" },
                                                      { "id": "gray", "address": "{{stockGray.Address}}", "tags": { "lane": "gray" } } ] } } }
            """);
        await using var relay = await GrpcBackend.StartAsync("relay", relayMeshConfig: relayConfig.Path);
        using var config = new TempFile();
        config.Write($$"""{ "services": { "greeter": { "endpoints": [ { "id": "r", "address": "{{relay.Address}}" } ] } } }""");
        using var host = await ClientHost(config);
        var client = host.Services.GetRequiredService<Greeter.GreeterClient>();

        var laned = await client.SayHelloAsync(new HelloRequest(), new Metadata { { "x-mesh-lane", "gray" } });
        var plain = await client.SayHelloAsync(new HelloRequest());

        Assert.Equal("stock-gray", laned.Message);
        Assert.Equal("gray", stockGray.LastHeaders["x-mesh-lane"]);
        Assert.Equal("stock-base", plain.Message);
        await host.StopAsync();
    }

    [Fact]
    public async Task GrpcUnavailable_CountsAsFailureOutcome()
    {
        await using var failing = await GrpcBackend.StartAsync("failing", StatusCode.Unavailable);
        using var config = new TempFile();
        config.Write($$"""{ "services": { "greeter": { "endpoints": [ { "id": "f", "address": "{{failing.Address}}" } ] } } }""");
        var outcomes = new OutcomeRecorder();
        using var host = await ClientHost(config, outcomes);
        var client = host.Services.GetRequiredService<Greeter.GreeterClient>();

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await client.SayHelloAsync(new HelloRequest()));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal([OutcomeKind.GrpcFailure], outcomes.Kinds);
        var state = host.Services.GetRequiredService<MeshRuntime>().Snapshot.Services["greeter"].EndpointsById["f"].State;
        Assert.Equal(1, state.Failures);
        await host.StopAsync();
    }

    [Fact]
    public async Task GrpcOkInTrailers_CountsAsSuccess_NotInFlightAfterwards()
    {
        await using var backend = await GrpcBackend.StartAsync("ok");
        using var config = new TempFile();
        config.Write($$"""{ "services": { "greeter": { "endpoints": [ { "id": "ok", "address": "{{backend.Address}}" } ] } } }""");
        var outcomes = new OutcomeRecorder();
        using var host = await ClientHost(config, outcomes);
        var client = host.Services.GetRequiredService<Greeter.GreeterClient>();

        Assert.Equal("ok", (await client.SayHelloAsync(new HelloRequest())).Message);

        Assert.Equal([OutcomeKind.Success], outcomes.Kinds);
        var state = host.Services.GetRequiredService<MeshRuntime>().Snapshot.Services["greeter"].EndpointsById["ok"].State;
        Assert.Equal((1, 0, 0), (state.Requests, state.Failures, state.ActiveRequests));
        await host.StopAsync();
    }

    [Fact]
    public async Task GrpcUnavailableInTrailers_AfterResponseHeaders_CountsAsFailureOutcome()
    {
        await using var failing = await GrpcBackend.StartAsync("failing", StatusCode.Unavailable, failAfterHeaders: true);
        using var config = new TempFile();
        config.Write($$"""{ "services": { "greeter": { "endpoints": [ { "id": "f", "address": "{{failing.Address}}" } ] } } }""");
        var outcomes = new OutcomeRecorder();
        using var host = await ClientHost(config, outcomes);
        var client = host.Services.GetRequiredService<Greeter.GreeterClient>();
        var runtime = host.Services.GetRequiredService<MeshRuntime>();
        var spans = new ConcurrentQueue<Activity>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = source => ReferenceEquals(source, runtime.Telemetry.ActivitySource),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(activityListener);

        var ex = await Assert.ThrowsAsync<RpcException>(async () => await client.SayHelloAsync(new HelloRequest()));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        Assert.Equal([OutcomeKind.GrpcFailure], outcomes.Kinds);
        Assert.Equal("grpc_failure", Assert.Single(spans).GetTagItem("mesh.outcome"));
        var state = runtime.Snapshot.Services["greeter"].EndpointsById["f"].State;
        Assert.Equal((1, 1, 0), (state.Requests, state.Failures, state.ActiveRequests));
        await host.StopAsync();
    }

    [Fact]
    public async Task ServerStream_FailingMidway_CountsAsFailureAtItsEnd_NotInFlightWhileStreaming()
    {
        await using var failing = await GrpcBackend.StartAsync("failing", StatusCode.Unavailable);
        using var config = new TempFile();
        config.Write($$"""{ "services": { "greeter": { "endpoints": [ { "id": "f", "address": "{{failing.Address}}" } ] } } }""");
        var outcomes = new OutcomeRecorder();
        using var host = await ClientHost(config, outcomes);
        var client = host.Services.GetRequiredService<Greeter.GreeterClient>();
        var state = host.Services.GetRequiredService<MeshRuntime>().Snapshot.Services["greeter"].EndpointsById["f"].State;

        using var call = client.SayHellos(new HelloRequest());
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));

        // Answered, so out of the endpoint's in-flight count; its outcome waits for the status.
        Assert.Equal("failing 1", call.ResponseStream.Current.Message);
        Assert.Equal(0, state.ActiveRequests);
        Assert.Empty(outcomes.Kinds);

        failing.ReleaseStreams();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        Assert.Equal(StatusCode.Unavailable, ex.StatusCode);
        await Eventually.UntilAsync(() => outcomes.Kinds.Length > 0, "the stream's outcome");
        Assert.Equal([OutcomeKind.GrpcFailure], outcomes.Kinds);
        Assert.Equal((1, 1, 0), (state.Requests, state.Failures, state.ActiveRequests));
        await host.StopAsync();
    }

    [Fact]
    public async Task ServerStream_ResetMidway_CountsAsFailure()
    {
        await using var resetting = await GrpcBackend.StartAsync("resetting", resetStreams: true);
        using var config = new TempFile();
        config.Write($$"""{ "services": { "greeter": { "endpoints": [ { "id": "r", "address": "{{resetting.Address}}" } ] } } }""");
        var outcomes = new OutcomeRecorder();
        using var host = await ClientHost(config, outcomes);
        var client = host.Services.GetRequiredService<Greeter.GreeterClient>();

        using var call = client.SayHellos(new HelloRequest());
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        resetting.ReleaseStreams();
        var ex = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext(CancellationToken.None));

        // No trailers: the status the client resolved from the reset (INTERNAL) tells.
        Assert.Equal(StatusCode.Internal, ex.StatusCode);
        await Eventually.UntilAsync(() => outcomes.Kinds.Length > 0, "the stream's outcome");
        Assert.Equal([OutcomeKind.GrpcFailure], outcomes.Kinds);
        await host.StopAsync();
    }

    [Fact]
    public async Task ServerStream_DisposedByTheAppMidway_CountsAsCanceled()
    {
        await using var backend = await GrpcBackend.StartAsync("held");
        using var config = new TempFile();
        config.Write($$"""{ "services": { "greeter": { "endpoints": [ { "id": "h", "address": "{{backend.Address}}" } ] } } }""");
        var outcomes = new OutcomeRecorder();
        using var host = await ClientHost(config, outcomes);
        var client = host.Services.GetRequiredService<Greeter.GreeterClient>();

        var call = client.SayHellos(new HelloRequest());
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        call.Dispose();

        await Eventually.UntilAsync(() => outcomes.Kinds.Length > 0, "the stream's outcome");
        Assert.Equal([OutcomeKind.Canceled], outcomes.Kinds);
        var state = host.Services.GetRequiredService<MeshRuntime>().Snapshot.Services["greeter"].EndpointsById["h"].State;
        Assert.Equal((1, 0, 0), (state.Requests, state.Failures, state.ActiveRequests));
        await host.StopAsync();
    }

    [Fact]
    public async Task GrpcFailuresInTrailers_EjectTheEndpoint_AfterTheConfiguredConsecutiveFailures()
    {
        await using var healthy = await GrpcBackend.StartAsync("healthy");
        await using var failing = await GrpcBackend.StartAsync("failing", StatusCode.Unavailable, failAfterHeaders: true);
        using var config = new TempFile();
        config.Write($$"""
            { "services": { "greeter": {
                "endpoints": [ { "id": "h", "address": "{{healthy.Address}}" }, { "id": "f", "address": "{{failing.Address}}" } ],
                "policy": { "outlierDetection": { "consecutiveFailures": 2, "ejectionTime": "00:01:00", "maxEjectionPercent": 50 } } } } }
            """);
        using var host = await ClientHost(config, mesh: m => m.AddResilience());
        var client = host.Services.GetRequiredService<Greeter.GreeterClient>();
        var runtime = host.Services.GetRequiredService<MeshRuntime>();
        var state = runtime.Snapshot.Services["greeter"].EndpointsById["f"].State;

        var failures = 0;
        for (var i = 0; i < 10; i++)
        {
            try
            {
                Assert.Equal("healthy", (await client.SayHelloAsync(new HelloRequest())).Message);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
            {
                failures++;
            }
        }

        // Two failures (the configured consecutive failures) took it out; every later call went to the healthy one.
        Assert.Equal(2, failures);
        Assert.Equal(1, state.Ejections);
        Assert.True(state.IsEjected(runtime.Time.GetTimestamp()), "the failing endpoint is ejected");
        await host.StopAsync();
    }

    [Fact]
    public async Task ServerStream_AbandonedWithoutDisposal_NotInFlight_ReportedOnceCollected()
    {
        await using var backend = await GrpcBackend.StartAsync("abandoned");
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson($$"""{ "services": { "greeter": { "endpoints": [ { "id": "a", "address": "{{backend.Address}}" } ] } } }""", "test"));
        var outcomes = new OutcomeRecorder();
        runtime.AddObserver(outcomes);
        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);
        var state = runtime.Snapshot.Services["greeter"].EndpointsById["a"].State;

        await ReadFirstMessageAndAbandonAsync();
        backend.ReleaseStreams();

        // The server ended its stream, but nobody reads it: grpc-dotnet never ends the call while its channel lives.
        Assert.Equal(0, state.ActiveRequests);
        Assert.Empty(outcomes.Kinds);

        // Channel and call gone: the outcome is reported once, as canceled, which says nothing about the endpoint.
        await Eventually.UntilAsync(
            () =>
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                return outcomes.Kinds.Length > 0;
            },
            "the abandoned call's outcome");
        Assert.Equal([OutcomeKind.Canceled], outcomes.Kinds);
        Assert.Equal((1, 0, 0), (state.Requests, state.Failures, state.ActiveRequests));
    }

    // Not inlined, so that nothing of the channel or the call stays reachable from the test once it returns.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task ReadFirstMessageAndAbandonAsync()
    {
        var channel = GrpcChannel.ForAddress("http://greeter", new GrpcChannelOptions { HttpHandler = MeshGrpc.CreateHttpHandler() });
        var call = new Greeter.GreeterClient(channel).SayHellos(new HelloRequest());
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
    }

    [Fact]
    public async Task BareChannel_WithMeshHandler_IsRouted_WithoutItFailsToConnect()
    {
        await using var backend = await GrpcBackend.StartAsync("bare");
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson($$"""{ "services": { "greeter": { "endpoints": [ { "id": "b", "address": "{{backend.Address}}" } ] } } }""", "test"));
        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);

        using var meshed = GrpcChannel.ForAddress("http://greeter", new GrpcChannelOptions { HttpHandler = MeshGrpc.CreateHttpHandler() });
        Assert.Equal("bare", (await new Greeter.GreeterClient(meshed).SayHelloAsync(new HelloRequest())).Message);

        // Without the opt-in the channel resolves "greeter" itself, before the mesh can see the call.
        using var unmeshed = GrpcChannel.ForAddress("http://greeter");
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
            await new Greeter.GreeterClient(unmeshed).SayHelloAsync(new HelloRequest(), deadline: DateTime.UtcNow.AddSeconds(5)));
        Assert.Contains(ex.StatusCode, new[] { StatusCode.Unavailable, StatusCode.DeadlineExceeded });
    }
}
