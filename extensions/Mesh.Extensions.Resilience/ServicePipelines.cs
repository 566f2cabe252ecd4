using System.Threading.RateLimiting;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Mesh.Configuration;
using Mesh.Extensions.Resilience.Retry;
using Mesh.Routing;
using Mesh.Runtime;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Mesh.Extensions.Resilience;

/// <summary>
/// One Polly pipeline per service, built from the service's policy and rebuilt only when the policy text changes
/// (<see cref="MeshService.PolicyFingerprint"/>), so breaker state survives unrelated configuration changes.
/// </summary>
internal sealed class ServicePipelines
{
    public static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("Mesh.Request");

    private readonly ConcurrentDictionary<string, ServicePipeline> _pipelines = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, ServicePipeline> _pipelinesWithoutRetry = new(StringComparer.OrdinalIgnoreCase);
    private readonly MeshRuntime _runtime;
    private readonly Counter<long> _retries;

    public ServicePipelines(MeshRuntime runtime)
    {
        _runtime = runtime;
        _retries = runtime.Telemetry.Meter.CreateCounter<long>("mesh.retries", "{retry}", "Attempts re-sent by the mesh, by service.");
    }

    /// <summary>The service's pipeline; without <paramref name="retry"/>, its variant with no retry strategy.</summary>
    public ServicePipeline Get(MeshService service, bool retry)
    {
        var pipelines = retry ? _pipelines : _pipelinesWithoutRetry;
        if (pipelines.TryGetValue(service.Name, out var current) && current.Fingerprint == service.PolicyFingerprint)
        {
            return current;
        }

        var built = Build(service, retry);
        pipelines[service.Name] = built;
        return built;
    }

    private ServicePipeline Build(MeshService service, bool withRetry)
    {
        var policy = service.Policy;
        var tag = new KeyValuePair<string, object?>("mesh.service", service.Name);
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _runtime.Time, Name = $"mesh-{service.Name}" };

        // Outermost: the bulkhead bounds the app's logical calls to the service, retries included.
        if (policy.Bulkhead is { MaxConcurrent: { } maxConcurrent } bulkhead)
        {
            builder.AddConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = maxConcurrent, QueueLimit = bulkhead.MaxQueue ?? 0 });
        }
        if (policy.Timeout is { } total)
        {
            builder.AddTimeout(TotalTimeout(total));
        }

        RetryConditions? conditions = null;
        RetryBudget? budget = null;
        if (withRetry && policy.Retry is { MaxAttempts: > 1 } retry)
        {
            conditions = new RetryConditions(retry);
            budget = new RetryBudget(retry.BudgetPercent ?? 20);
            var retryConditions = conditions;
            var retryBudget = budget;
            var options = RetryOptions(retry);
            options.ShouldHandle = args =>
            {
                var request = args.Context.Properties.GetValue(RequestKey, null!);
                var retryIt = args.Outcome.Exception is not Polly.CircuitBreaker.BrokenCircuitException
                    && retryConditions.ShouldRetry(request.Method, args.Outcome.Result, args.Outcome.Exception)
                    && retryBudget.TryStartRetry();
                return ValueTask.FromResult(retryIt);
            };
            options.OnRetry = _ =>
            {
                _retries.Add(1, tag);
                return default;
            };
            builder.AddRetry(options);
        }

        if (policy.CircuitBreaker is { } breaker && breaker.Scope != "endpoint")
        {
            var options = BreakerOptions(breaker);
            options.ShouldHandle = args => ValueTask.FromResult(Failures.IsBreakerFailure(args.Outcome.Result, args.Outcome.Exception));
            options.OnOpened = _ => Transition("open");
            options.OnHalfOpened = _ => Transition("half_open");
            options.OnClosed = _ => Transition("closed");
            builder.AddCircuitBreaker(options);
        }

        if (policy.Retry?.PerTryTimeout is { } perTry)
        {
            builder.AddTimeout(AttemptTimeout(perTry));
        }

        var active = policy.Timeout is not null || conditions is not null || policy.CircuitBreaker is { Scope: not "endpoint" }
            || policy.Retry?.PerTryTimeout is not null || policy.Bulkhead is not null;
        return new ServicePipeline(service.PolicyFingerprint, active ? builder.Build() : null, budget);

        ValueTask Transition(string state)
        {
            _runtime.Telemetry.CircuitBreakerTransitions.Add(1, tag, new KeyValuePair<string, object?>("mesh.state", state));
            return default;
        }
    }

    // The options of each strategy as the policy sets them; PolicyLimits checks these very objects, so what it accepts
    // is what Polly accepts when the pipeline is built.
    internal static HttpTimeoutStrategyOptions TotalTimeout(TimeSpan timeout) => new() { Timeout = timeout, Name = "total-timeout" };

    internal static HttpTimeoutStrategyOptions AttemptTimeout(TimeSpan timeout) => new() { Timeout = timeout, Name = "attempt-timeout" };

    internal static HttpRetryStrategyOptions RetryOptions(RetryDocument retry) => new()
    {
        // Also checked for a policy without retries (maxAttempts 1 or absent), which keeps the backoff for the day it gets some.
        MaxRetryAttempts = Math.Max(retry.MaxAttempts ?? 1, 2) - 1,
        Delay = retry.Backoff ?? TimeSpan.FromMilliseconds(25),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        ShouldRetryAfterHeader = false,
    };

    internal static HttpCircuitBreakerStrategyOptions BreakerOptions(CircuitBreakerDocument breaker) => new()
    {
        FailureRatio = breaker.FailureRatio ?? 0.5,
        MinimumThroughput = breaker.MinimumThroughput ?? 20,
        SamplingDuration = breaker.SamplingDuration ?? TimeSpan.FromSeconds(30),
        BreakDuration = breaker.BreakDuration ?? TimeSpan.FromSeconds(30),
    };
}

/// <summary>The pipeline of one service at one policy version; null when the policy asks for no resilience.</summary>
internal sealed record ServicePipeline(string Fingerprint, ResiliencePipeline<HttpResponseMessage>? Pipeline, RetryBudget? Budget);
