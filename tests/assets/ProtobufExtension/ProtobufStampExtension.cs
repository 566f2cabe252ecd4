using Google.Protobuf.WellKnownTypes;
using Mesh.Extensibility;
using Mesh.Runtime;

namespace ProtobufExtension;

/// <summary>
/// A custom extension package with a third-party dependency of its own: stamps every factory-client request with
/// <c>x-protobuf-stamp</c>, a Protobuf Duration as JSON and the Google.Protobuf version that made it.
/// </summary>
public sealed class ProtobufStampExtension : IOutboundExtension
{
    public string Name => "protobuf-stamp";

    public int Order => 500;

    public DelegatingHandler CreateHandler(MeshRuntime runtime) => new StampHandler();

    private sealed class StampHandler : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var version = typeof(Duration).Assembly.GetName().Version;
            request.Headers.TryAddWithoutValidation("x-protobuf-stamp", $"{Duration.FromTimeSpan(TimeSpan.FromMilliseconds(1500))} {version}");
            return base.SendAsync(request, cancellationToken);
        }
    }
}
