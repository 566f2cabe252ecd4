using Mesh.Routing;

namespace Mesh.Http;

/// <summary>
/// Thrown into the application for a deliberate rejection by the mesh: the service has no endpoint, or the
/// request's lane has none and the policy rejects. The message says which service, route and lane.
/// </summary>
public sealed class MeshRoutingException : HttpRequestException
{
    /// <summary>Creates the exception.</summary>
    public MeshRoutingException(string service, RouteStatus status, string message)
        : base(HttpRequestError.Unknown, message)
    {
        Service = service;
        Status = status;
    }

    /// <summary>The service the call was for.</summary>
    public string Service { get; }

    /// <summary>Why the call was rejected.</summary>
    public RouteStatus Status { get; }
}
