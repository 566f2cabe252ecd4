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
    private static async Task<IHost> ClientHost(TempFile config, IOutcomeObserver? observer = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddMesh(o => o.UseFile(config.Path));
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
