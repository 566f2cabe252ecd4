using Mesh.Model;
using Mesh.Runtime;

namespace Mesh.Http;

/// <summary>Keys of <see cref="HttpRequestMessage.Options"/> through which the mesh's parts talk about a request.</summary>
public static class MeshRequestOptions
{
    /// <summary>The runtime that routes the request (set by the handler of <c>IHttpClientFactory</c> clients).</summary>
    public static readonly HttpRequestOptionsKey<MeshRuntime> Runtime = new("Mesh.Runtime");

    /// <summary>The routed call in flight, set by the listener when it picks an endpoint.</summary>
    public static readonly HttpRequestOptionsKey<MeshCall> Call = new("Mesh.Call");

    /// <summary>
    /// The cancellation token of the application's own call, set by a handler that adds timeouts around the attempts:
    /// an attempt canceled while this token is not was ended by a mesh timeout, a failure of the endpoint, and not
    /// by the caller.
    /// </summary>
    public static readonly HttpRequestOptionsKey<CancellationToken> CallerCancellation = new("Mesh.CallerCancellation");

    /// <summary>Endpoints earlier attempts of the same logical call went to; a retry avoids them.</summary>
    public static readonly HttpRequestOptionsKey<List<Endpoint>> Attempted = new("Mesh.Attempted");
}
