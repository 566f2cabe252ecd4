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
/// with what <c>http://stock</c> answers it. A failing one fails with <c>failWith</c>: before any response (a
/// trailers-only response), or with <c>failAfterHeaders</c> after sending the response headers, so that the status
/// comes in trailers. Its stream sends one message, waits for <see cref="ReleaseStreams"/>, sends a second and then
/// ends, fails with <c>failWith</c>, or, with <c>resetStreams</c>, resets the HTTP/2 stream without a status.
/// </summary>
internal sealed class GrpcBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _streams;

    private GrpcBackend(WebApplication app, string address, TaskCompletionSource streams)
    {
        _app = app;
        _streams = streams;
        Address = address;
    }

    public string Address { get; }

    public static async Task<GrpcBackend> StartAsync(
        string name, StatusCode? failWith = null, string? relayMeshConfig = null, bool failAfterHeaders = false, bool resetStreams = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        if (relayMeshConfig is not null)
        {
            builder.Services.AddMesh(o => o.UseFile(relayMeshConfig)).AddMeshInbound();
        }

        var streams = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        builder.Services.AddSingleton(provider => new GreeterService(
            name, failWith, failAfterHeaders, resetStreams, streams.Task, relayMeshConfig is null ? null : provider.GetRequiredService<IHttpClientFactory>()));
        var app = builder.Build();
        app.MapGrpcService<GreeterService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new GrpcBackend(app, address.TrimEnd('/'), streams);
    }

    /// <summary>Lets the streams in progress, and those to come, go on past their first message.</summary>
    public void ReleaseStreams() => _streams.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class GreeterService(
        string name, StatusCode? failWith, bool failAfterHeaders, bool resetStreams, Task streams, IHttpClientFactory? relay) : Greeter.GreeterBase
    {
        public override async Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context)
        {
            if (failWith is not null)
            {
                if (failAfterHeaders)
                {
                    await context.WriteResponseHeadersAsync(new Metadata());
                }

                throw Failure();
            }

            if (relay is not null)
            {
                return new HelloReply { Message = await relay.CreateClient().GetStringAsync("http://stock/", context.CancellationToken) };
            }

            var lane = context.RequestHeaders.GetValue("x-mesh-lane");
            return new HelloReply { Message = lane is null ? name : $"{name} [lane {lane}]" };
        }

        public override async Task SayHellos(HelloRequest request, IServerStreamWriter<HelloReply> responseStream, ServerCallContext context)
        {
            await responseStream.WriteAsync(new HelloReply { Message = $"{name} 1" });
            await streams.WaitAsync(context.CancellationToken);
            if (resetStreams)
            {
                context.GetHttpContext().Abort();
                return;
            }

            await responseStream.WriteAsync(new HelloReply { Message = $"{name} 2" });
            if (failWith is not null)
            {
                throw Failure();
            }
        }

        private RpcException Failure() => new(new Status(failWith!.Value, $"{name} fails on purpose"));
    }
}
