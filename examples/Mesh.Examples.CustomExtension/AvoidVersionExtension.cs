using Mesh.Extensibility;
using Mesh.Model;
using Mesh.Routing;

namespace Mesh.Examples.CustomExtension;

/// <summary>
/// A custom extension at the routing join points, on the public contract alone. As a route filter it lets a caller
/// keep a request away from one version of a service during a rollout: with <c>x-avoid-version: v1</c>, endpoints
/// tagged <c>version: v1</c> are not picked while others are available. As a pick observer it names the endpoint
/// picked in an <c>x-picked-endpoint</c> request header, so the callee can log which instance the mesh chose.
/// </summary>
public sealed class AvoidVersionExtension : IRouteFilter, IPickObserver
{
    /// <summary>The request header naming the version to avoid.</summary>
    public const string AvoidHeader = "x-avoid-version";

    /// <summary>The request header the picked endpoint's id is sent in.</summary>
    public const string PickedHeader = "x-picked-endpoint";

    /// <inheritdoc />
    public string Name => "avoidVersion";

    /// <inheritdoc />
    public int Order => 1000;

    /// <inheritdoc />
    public bool Excludes<TRequest>(MeshService service, Endpoint endpoint, ref TRequest request)
        where TRequest : struct, IRouteRequest
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return request.TryGetHeader(AvoidHeader, out var avoided) && endpoint.Tags.TryGetValue("version", out var version) && avoided.SequenceEqual(version);
    }

    /// <inheritdoc />
    public void OnPicked(in RouteDecision decision, HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);

        // A retry is picked again, for another endpoint: the header names the one this attempt goes to.
        request.Headers.Remove(PickedHeader);
        request.Headers.TryAddWithoutValidation(PickedHeader, decision.Endpoint?.Id);
    }
}
