using Mesh.Extensibility;
using Mesh.Http;
using Mesh.Model;
using Mesh.Routing;
using Mesh.Runtime;
using Polly;
using Polly.CircuitBreaker;
using Polly.RateLimiting;

namespace Mesh.Extensions.Resilience;

/// <summary>
/// Runs each call to a mesh service through the service's pipeline (total timeout → retry → breaker → per-try
/// timeout). Every attempt starts again from the logical address (<c>http://orders/...</c>) with the endpoints
/// already tried marked in <see cref="MeshRequestOptions.Attempted"/>, so the listener routes a retry to a
/// different endpoint. Without <paramref name="retry"/> (a client whose app handler re-sends) the pipeline has no
/// retry strategy.
/// </summary>
internal sealed class MeshResilienceHandler(MeshRuntime runtime, ServicePipelines pipelines, bool retry) : DelegatingHandler
{
    // Calls with nothing to run (not a mesh service, or a service without retry, timeouts or breaker) go on without an
    // async frame of this handler.
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        return request.RequestUri is { IsAbsoluteUri: true } original && runtime.SnapshotFor(original.Host) is { Enabled: true } snapshot && snapshot.TryGetService(original.Host, out var service)
            && pipelines.Get(service, retry) is { Pipeline: { } resilience } pipeline
            ? SendThroughPipelineAsync(request, original, service, pipeline, resilience, cancellationToken)
            : base.SendAsync(request, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendThroughPipelineAsync(HttpRequestMessage request, Uri original, MeshService service, ServicePipeline pipeline, ResiliencePipeline<HttpResponseMessage> resilience, CancellationToken cancellationToken)
    {
        var attempted = new List<Endpoint>(2);
        request.Options.Set(MeshRequestOptions.Attempted, attempted);
        request.Options.Set(MeshRequestOptions.CallerCancellation, cancellationToken);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(ServicePipelines.RequestKey, request);
        pipeline.Budget?.RequestStarted();
        try
        {
            var state = new AttemptState(this, request, original, attempted, pipeline.Budget);
            var outcome = await resilience.ExecuteOutcomeAsync(
                static async (ctx, state) => await state.Handler.AttemptAsync(state, ctx.CancellationToken).ConfigureAwait(false),
                context,
                state).ConfigureAwait(false);
            if (outcome.Exception is BrokenCircuitException broken)
            {
                throw new MeshCircuitOpenException(service.Name, broken);
            }

            if (outcome.Exception is RateLimiterRejectedException full)
            {
                throw new MeshBulkheadFullException(service.Name, full);
            }

            outcome.ThrowIfException();
            return outcome.Result!;
        }
        finally
        {
            pipeline.Budget?.RequestEnded();
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask<Outcome<HttpResponseMessage>> AttemptAsync(AttemptState state, CancellationToken cancellationToken)
    {
        var request = state.Request;
        var retry = state.Attempts++ > 0;
        request.RequestUri = state.Original;
        ((IDictionary<string, object?>)request.Options).Remove(MeshRequestOptions.Call.Key);
        try
        {
            return Outcome.FromResult(await base.SendAsync(request, cancellationToken).ConfigureAwait(false));
        }
        catch (Exception ex) when (ex is not MeshRoutingException)
        {
            // The next attempt replaces this one's call on the request: end it now if HttpClient's events could not
            // (a canceled send, a per-try timeout among them; another diagnostic subscriber that threw around the
            // send), or it stays counted in flight.
            MeshCall.EndOpen(request, ex);
            return Outcome.FromException<HttpResponseMessage>(ex);
        }
        finally
        {
            if (request.Options.TryGetValue(MeshRequestOptions.Call, out var call))
            {
                state.Attempted.Add(call.Endpoint);
            }

            if (retry)
            {
                state.Budget?.RetryEnded();
            }
        }
    }

    private sealed class AttemptState(MeshResilienceHandler handler, HttpRequestMessage request, Uri original, List<Endpoint> attempted, Retry.RetryBudget? budget)
    {
        public MeshResilienceHandler Handler { get; } = handler;

        public HttpRequestMessage Request { get; } = request;

        public Uri Original { get; } = original;

        public List<Endpoint> Attempted { get; } = attempted;

        public Retry.RetryBudget? Budget { get; } = budget;

        public int Attempts { get; set; }
    }
}

/// <summary>Thrown when a service's circuit breaker is open: the call failed fast, without a connection attempt.</summary>
public sealed class MeshCircuitOpenException : HttpRequestException, IMeshRejection
{
    /// <summary>Creates the exception.</summary>
    public MeshCircuitOpenException(string service, Exception inner)
        : base(HttpRequestError.Unknown, $"the circuit breaker of service '{service}' is open: the call failed fast, without a connection attempt", inner)
    {
        Service = service;
    }

    /// <summary>The service whose breaker is open.</summary>
    public string Service { get; }
}

/// <summary>
/// A call to a mesh service refused because the service's bulkhead (<c>policy.bulkhead</c>) is full: this app already
/// has <c>maxConcurrent</c> calls to it in flight and <c>maxQueue</c> waiting.
/// </summary>
public sealed class MeshBulkheadFullException : HttpRequestException, IMeshRejection
{
    /// <summary>Creates the exception.</summary>
    public MeshBulkheadFullException(string service, Exception inner)
        : base(HttpRequestError.Unknown, $"the bulkhead of service '{service}' is full: the call was refused without a connection attempt", inner)
    {
        Service = service;
    }

    /// <summary>The service whose bulkhead is full.</summary>
    public string Service { get; }
}
