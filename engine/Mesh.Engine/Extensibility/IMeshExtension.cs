namespace Mesh.Extensibility;

/// <summary>
/// A unit of governance that joins the mesh at one or more named points. Built-in extensions and custom packages
/// use this same contract. An extension implements the point interfaces it joins at:
/// <see cref="IRouteFilter"/> (excludes endpoints before the balancer picks), <see cref="IPickObserver"/> (told the
/// endpoint picked, before the request leaves), <see cref="Runtime.IOutcomeObserver"/> (outcome of every routed call),
/// <see cref="IOutboundExtension"/> (a handler on <c>IHttpClientFactory</c> clients), and, in ASP.NET Core apps, <c>Mesh.AspNetCore.IInboundExtension</c>
/// (middleware on inbound requests). An extension that throws is logged, counted and skipped, never fatal.
/// </summary>
public interface IMeshExtension
{
    /// <summary>Unique name; also the key of the extension's settings under <c>policy.extensions</c>.</summary>
    string Name { get; }

    /// <summary>Position among extensions at the same point; lower runs first (outermost).</summary>
    int Order { get; }
}

/// <summary>Joins the outbound pipeline of <c>IHttpClientFactory</c> clients with a handler.</summary>
public interface IOutboundExtension : IMeshExtension
{
    /// <summary>Creates the handler for one client pipeline; called once per pipeline build.</summary>
    DelegatingHandler CreateHandler(Runtime.MeshRuntime runtime);

    /// <summary>
    /// Creates the handler for one client pipeline, told what the app's own part of that pipeline already does. An
    /// extension that re-sends requests (retry, hedging) should not re-send on a client whose app handler does
    /// (<see cref="OutboundClient.AppResends"/>), so that one failure is never retried by both. By default the same
    /// as <see cref="CreateHandler(Runtime.MeshRuntime)"/>.
    /// </summary>
    DelegatingHandler CreateHandler(Runtime.MeshRuntime runtime, OutboundClient client) => CreateHandler(runtime);
}

/// <summary>An <c>IHttpClientFactory</c> client whose pipeline is being built.</summary>
/// <param name="Name">The client's name (a typed client's is its type's name; the default client's is empty).</param>
/// <param name="AppResends">
/// Whether the app's own handlers on the client re-send requests: Polly's <c>PolicyHttpMessageHandler</c>
/// (Microsoft.Extensions.Http.Polly) or the resilience handler of Microsoft.Extensions.Http.Resilience (standard
/// resilience, hedging, <c>AddResilienceHandler</c>). The mesh still routes every attempt they make.
/// </param>
public sealed record OutboundClient(string Name, bool AppResends);
