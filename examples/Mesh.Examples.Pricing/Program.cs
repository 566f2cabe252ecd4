// The pricing service: a gRPC server that knows nothing of Mesh. It answers with its instance name and the lane the
// call arrived in, which shows that gRPC calls are routed by the mesh rules and carry the lane like HTTP calls.
using Grpc.Core;
using Mesh.Examples;
using Mesh.Examples.Pricing;
using Microsoft.AspNetCore.Server.Kestrel.Core;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
// gRPC without TLS is HTTP/2 with prior knowledge, so the port speaks HTTP/2 only.
builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
builder.Services.AddGrpc();
var app = builder.Build();
app.MapGrpcService<PricingService>();
PortFile.WriteWhenStarted(app, app.Configuration["port-file"]);
app.Run();

internal sealed class PricingService(IConfiguration configuration) : Pricing.PricingBase
{
    public override Task<QuoteReply> Quote(QuoteRequest request, ServerCallContext context) => Task.FromResult(new QuoteReply
    {
        Instance = configuration["instance"] ?? "pricing",
        Lane = context.RequestHeaders.GetValue("x-mesh-lane") ?? "",
    });
}
