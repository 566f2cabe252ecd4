using Mesh.Extensions.Resilience;
using Mesh.Extensions.Resilience.OutlierDetection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the resilience extensions.</summary>
public static class ResilienceMeshBuilderExtensions
{
    /// <summary>
    /// Adds retry, timeouts and the service circuit breaker (for <c>IHttpClientFactory</c> clients), and outlier ejection
    /// and endpoint circuit breakers (for every call).
    /// </summary>
    public static IMeshBuilder AddResilience(this IMeshBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddExtension<ResilienceExtension>().AddExtension<OutlierDetector>().AddExtension<EndpointCircuitBreaker>();
    }
}
