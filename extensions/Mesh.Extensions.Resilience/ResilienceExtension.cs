using Mesh.Configuration;
using Mesh.Extensibility;
using Mesh.Runtime;

namespace Mesh.Extensions.Resilience;

/// <summary>
/// Retry (to a different endpoint), timeouts and the service circuit breaker for <c>IHttpClientFactory</c> clients,
/// from each service's live policy, on Microsoft.Extensions.Http.Resilience (Polly). Policies with values out of Polly's
/// ranges are rejected with the document (<see cref="IPolicyValidator"/>).
/// </summary>
public sealed class ResilienceExtension : IOutboundExtension, IPolicyValidator
{
    private ServicePipelines? _pipelines;

    /// <inheritdoc />
    public string Name => "resilience";

    /// <inheritdoc />
    public int Order => 100;

    /// <inheritdoc />
    public IEnumerable<ValidationError> ValidatePolicy(PolicyDocument policy) => PolicyLimits.Validate(policy);

    /// <inheritdoc />
    public DelegatingHandler CreateHandler(MeshRuntime runtime) => CreateHandler(runtime, new OutboundClient("", AppResends: false));

    /// <inheritdoc />
    /// <remarks>On a client whose app handler re-sends, the app's retry wins: the mesh keeps its timeouts, breaker and bulkhead there, without retry.</remarks>
    public DelegatingHandler CreateHandler(MeshRuntime runtime, OutboundClient client)
    {
        ArgumentNullException.ThrowIfNull(client);

        // One pipeline set per runtime, shared by every client, so breakers see all of the app's calls.
        var pipelines = _pipelines ??= new ServicePipelines(runtime);
        return new MeshResilienceHandler(runtime, pipelines, retry: !client.AppResends);
    }
}
