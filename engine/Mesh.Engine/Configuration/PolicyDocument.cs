using System.Text.Json;

namespace Mesh.Configuration;

/// <summary>The policy for calls to one service.</summary>
public sealed class PolicyDocument
{
    /// <summary>How an endpoint is picked among the candidates.</summary>
    public LoadBalancerDocument? LoadBalancer { get; set; }

    /// <summary>Routes, tried in order; the first that matches decides the destinations.</summary>
    public List<RouteDocument>? Routes { get; set; }

    /// <summary>What happens to a request whose lane has no endpoint.</summary>
    public LaneDocument? Lane { get; set; }

    /// <summary>Re-sends of failed calls.</summary>
    public RetryDocument? Retry { get; set; }

    /// <summary>Overall time limit of a call, all attempts included.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>Fail fast when the service keeps failing.</summary>
    public CircuitBreakerDocument? CircuitBreaker { get; set; }

    /// <summary>Eject endpoints that keep failing.</summary>
    public OutlierDetectionDocument? OutlierDetection { get; set; }

    /// <summary>A limit on this app's concurrent calls to the service.</summary>
    public BulkheadDocument? Bulkhead { get; set; }

    /// <summary>Ramp the weight of new endpoints up over time.</summary>
    public WarmUpDocument? WarmUp { get; set; }

    /// <summary>Settings of extensions, by extension name; built-in and custom extensions read their own.</summary>
    public Dictionary<string, JsonElement>? Extensions { get; set; }
}

/// <summary>Load balancer choice.</summary>
public sealed class LoadBalancerDocument
{
    /// <summary><c>roundRobin</c> (default), <c>random</c>, <c>weightedRandom</c>, <c>leastRequest</c>, <c>consistentHash</c>, <c>zoneAware</c>.</summary>
    public string? Kind { get; set; }

    /// <summary>For <c>consistentHash</c>: which request value is hashed.</summary>
    public HashOnDocument? HashOn { get; set; }
}

/// <summary>The request value a consistent hash is computed over; exactly one is set.</summary>
public sealed class HashOnDocument
{
    /// <summary>A request header name.</summary>
    public string? Header { get; set; }

    /// <summary>A cookie name.</summary>
    public string? Cookie { get; set; }

    /// <summary>A query parameter name.</summary>
    public string? Query { get; set; }
}

/// <summary>A route: a match and the weighted destinations it sends to.</summary>
public sealed class RouteDocument
{
    /// <summary>Shown in traces, metrics and <c>meshctl explain</c>.</summary>
    public string? Name { get; set; }

    /// <summary>Conditions, all of which must hold; absent means every request matches.</summary>
    public MatchDocument? Match { get; set; }

    /// <summary>Weighted endpoint subsets.</summary>
    public List<DestinationDocument>? Destinations { get; set; }
}

/// <summary>Request conditions; every condition given must hold.</summary>
public sealed class MatchDocument
{
    /// <summary>The HTTP method.</summary>
    public StringMatchDocument? Method { get; set; }

    /// <summary>The request path (without query).</summary>
    public StringMatchDocument? Path { get; set; }

    /// <summary>Header conditions by header name (case-insensitive names).</summary>
    public Dictionary<string, StringMatchDocument>? Headers { get; set; }

    /// <summary>Query parameter conditions by name.</summary>
    public Dictionary<string, StringMatchDocument>? Query { get; set; }

    /// <summary>Cookie conditions by name.</summary>
    public Dictionary<string, StringMatchDocument>? Cookies { get; set; }

    /// <summary>The lane of the request (from the lane header or the inbound context).</summary>
    public StringMatchDocument? Lane { get; set; }
}

/// <summary>One string condition; exactly one operator is set.</summary>
public sealed class StringMatchDocument
{
    /// <summary>Equal to the value.</summary>
    public string? Exact { get; set; }

    /// <summary>Starts with the value.</summary>
    public string? Prefix { get; set; }

    /// <summary>Matches the regular expression (non-backtracking, length-capped).</summary>
    public string? Regex { get; set; }

    /// <summary>Equal to one of the values.</summary>
    public List<string>? In { get; set; }

    /// <summary>true: the value is present; false: it is absent.</summary>
    public bool? Present { get; set; }

    /// <summary>Compare ignoring case.</summary>
    public bool? IgnoreCase { get; set; }
}

/// <summary>A weighted subset of the service's endpoints.</summary>
public sealed class DestinationDocument
{
    /// <summary>Tags an endpoint must carry, all of them; absent means every endpoint.</summary>
    public Dictionary<string, string>? Subset { get; set; }

    /// <summary>Share of the route's traffic, relative to the other destinations; 100 when absent.</summary>
    public int? Weight { get; set; }
}

/// <summary>Lane behaviour.</summary>
public sealed class LaneDocument
{
    /// <summary><c>base</c> (default): a lane with no endpoint falls back to untagged endpoints; <c>reject</c>: the call fails.</summary>
    public string? Fallback { get; set; }
}

/// <summary>Retry settings.</summary>
public sealed class RetryDocument
{
    /// <summary>Attempts in all, the first one included.</summary>
    public int? MaxAttempts { get; set; }

    /// <summary>Conditions: <c>connectFailure</c>, <c>5xx</c>, <c>gatewayError</c>, <c>timeout</c>, <c>grpcUnavailable</c>, <c>429</c>.</summary>
    public List<string>? On { get; set; }

    /// <summary>Base delay between attempts (exponential with jitter).</summary>
    public TimeSpan? Backoff { get; set; }

    /// <summary>Time limit of one attempt.</summary>
    public TimeSpan? PerTryTimeout { get; set; }

    /// <summary>Retry non-idempotent methods (POST, PATCH) too.</summary>
    public bool? AllowNonIdempotent { get; set; }

    /// <summary>Retries may add at most this percentage of the request rate (retry budget).</summary>
    public double? BudgetPercent { get; set; }
}

/// <summary>Circuit breaker settings.</summary>
public sealed class CircuitBreakerDocument
{
    /// <summary>Failure ratio in the sampling window that opens the breaker, in (0, 1].</summary>
    public double? FailureRatio { get; set; }

    /// <summary>Calls needed in the window before the ratio counts.</summary>
    public int? MinimumThroughput { get; set; }

    /// <summary>The sampling window.</summary>
    public TimeSpan? SamplingDuration { get; set; }

    /// <summary>How long the breaker stays open before a trial call.</summary>
    public TimeSpan? BreakDuration { get; set; }

    /// <summary><c>service</c> (default) or <c>endpoint</c>.</summary>
    public string? Scope { get; set; }
}

/// <summary>Outlier detection settings.</summary>
public sealed class OutlierDetectionDocument
{
    /// <summary>Consecutive failures that eject an endpoint.</summary>
    public int? ConsecutiveFailures { get; set; }

    /// <summary>Base ejection time; it grows with each repeated ejection.</summary>
    public TimeSpan? EjectionTime { get; set; }

    /// <summary>Upper bound of the grown ejection time.</summary>
    public TimeSpan? MaxEjectionTime { get; set; }

    /// <summary>Never eject more than this percentage of a service's endpoints.</summary>
    public int? MaxEjectionPercent { get; set; }

    /// <summary>Share of failed calls (0 to 1) within <see cref="Interval"/> that ejects an endpoint.</summary>
    public double? FailureRatio { get; set; }

    /// <summary>Calls an endpoint must have had within the interval before its failure ratio counts; default 10.</summary>
    public int? MinimumRequests { get; set; }

    /// <summary>The window the failure ratio is measured over; default 10 seconds.</summary>
    public TimeSpan? Interval { get; set; }
}

/// <summary>Bulkhead settings: calls over the limit wait in a queue, or fail at once when it is full.</summary>
public sealed class BulkheadDocument
{
    /// <summary>Calls to the service in flight at once.</summary>
    public int? MaxConcurrent { get; set; }

    /// <summary>Calls that may wait for a free slot; default 0.</summary>
    public int? MaxQueue { get; set; }
}

/// <summary>Warm-up settings.</summary>
public sealed class WarmUpDocument
{
    /// <summary>How long a new endpoint takes to reach its full weight.</summary>
    public TimeSpan? Duration { get; set; }

    /// <summary>Shape of the ramp: the weight is scaled by (age / duration)^curve; 1 is linear, 2 starts slower.</summary>
    public double? Curve { get; set; }
}
