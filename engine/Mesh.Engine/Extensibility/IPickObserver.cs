using Mesh.Routing;

namespace Mesh.Extensibility;

/// <summary>
/// Told which endpoint was picked for a request, after the request was pointed at it and before it leaves (so it may
/// still add a header). Runs on the request's thread for every routed attempt: keep it fast. An observer that throws
/// is logged, counted and skipped; the request goes on.
/// </summary>
public interface IPickObserver : IMeshExtension
{
    /// <summary>Called once per routed attempt with the decision and the request about to be sent.</summary>
    void OnPicked(in RouteDecision decision, HttpRequestMessage request);
}
