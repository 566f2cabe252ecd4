#if COMPAT_GRPC
using Grpc.Core;

namespace CompatWeb;

// A trivial server side so the app is a realistic gRPC app; the compatibility tests only use its client side.
public sealed class GreeterService : Greeter.GreeterBase
{
    public override Task<HelloReply> SayHello(HelloRequest request, ServerCallContext context) =>
        Task.FromResult(new HelloReply { Message = "hello " + request.Name });

    public override async Task SayHellos(HelloRequest request, IServerStreamWriter<HelloReply> responseStream, ServerCallContext context)
    {
        for (var i = 0; i < 3; i++)
            await responseStream.WriteAsync(new HelloReply { Message = $"hello {request.Name} {i}" });
    }
}
#endif
