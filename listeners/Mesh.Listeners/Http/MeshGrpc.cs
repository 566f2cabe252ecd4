namespace Mesh.Http;

/// <summary>
/// gRPC support. A <c>GrpcChannel</c> for <c>http://orders</c> normally resolves and connects its own sub-channels
/// before a request reaches HttpClient, so the mesh could not route it. With load balancing disabled on its
/// <see cref="SocketsHttpHandler"/> the channel sends each call as an HttpClient request, which the mesh routes
/// like any other (lanes, retries, outcomes included). <c>IHttpClientFactory</c> clients, and so
/// <c>AddGrpcClient</c> clients, get this from <c>AddMesh()</c> and the startup hook; a channel created in code
/// opts in with one line:
/// <code>GrpcChannel.ForAddress("http://orders", new GrpcChannelOptions { HttpHandler = MeshGrpc.CreateHttpHandler() })</code>
/// </summary>
public static class MeshGrpc
{
    // The switch grpc-dotnet reads from the handler's properties to use the handler as is (no sub-channels).
    private const string BalancingDisabled = "__GrpcLoadBalancingDisabled";

    /// <summary>A handler for a <c>GrpcChannel</c> whose calls the mesh routes.</summary>
    public static SocketsHttpHandler CreateHttpHandler()
    {
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        DisableChannelBalancing(handler);
        return handler;
    }

    /// <summary>Marks <paramref name="handler"/> so a gRPC channel over it sends calls through HttpClient.</summary>
    public static void DisableChannelBalancing(HttpMessageHandler? handler)
    {
        if (handler is SocketsHttpHandler sockets)
        {
            sockets.Properties[BalancingDisabled] = true;
        }
    }
}
