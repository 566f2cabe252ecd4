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
    /// Whether the handler re-sends requests (retry, hedging). Such a handler is left off a client that already
    /// has a re-sending handler of the app's own (Polly's <c>PolicyHttpMessageHandler</c>, the standard resilience
    /// handler): the app's policy wins there, so one failure is never retried by both. The mesh still routes every
    /// attempt the app's handler makes.
    /// </summary>
    bool ResendsRequests => false;
}
