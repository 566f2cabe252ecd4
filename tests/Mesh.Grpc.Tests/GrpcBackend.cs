using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Grpc.Tests;

/// <summary>
/// A real Grpc.AspNetCore server (HTTP/2 cleartext) on 127.0.0.1 that answers with its name, or, as a meshed relay,
/// with what <c>http://stock</c> answers it.
/// </summary>
internal sealed class GrpcBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GrpcBackend(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    public string Address { get; }

    public static async Task<GrpcBackend> StartAsync(string name, StatusCode? failWith = null, string? relayMeshConfig = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        if (relayMeshConfig is not null)
        {
            builder.Services.AddMesh(o => o.UseFile(relayMeshConfig)).AddMeshInbound();
        }

        builder.Services.AddSingleton(provider => new GreeterService(name, failWith, relayMeshConfig is null ? null : provider.GetRequiredService<IHttpClientFactory>()));
        var app = builder.Build();
        app.MapGrpcService<GreeterService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new GrpcBackend(app, address.TrimEnd('/'));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class GreeterService(string name, StatusCode? failWith, IHttpClientFactory? relay) : Greeter.GreeterBase
    {
        public override async Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
        {
            if (failWith is { } status)
            {
                throw new RpcException(new Status(status, $"{name} fails on purpose"));
            }

            if (relay is not null)
            {
                return new HelloReply { Message = await relay.CreateClient().GetStringAsync("http://stock/", context.CancellationToken) };
            }

            var lane = context.RequestHeaders.GetValue("x-mesh-lane");
            return new HelloReply { Message = lane is null ? name : $"{name} [lane {lane}]" };
        }
    }
}
