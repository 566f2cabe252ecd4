using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using System.Threading.RateLimiting;
using Mesh.AspNetCore;
using Mesh.Extensibility;
using Mesh.Routing;
using Mesh.Runtime;
using Microsoft.AspNetCore.Http;

namespace Mesh.Extensions.Governance;

/// <summary>Settings of <see cref="RateLimitExtension"/>: <c>policy.extensions.rateLimit</c> of the called service.</summary>
public sealed class RateLimitSettings
{
    /// <summary>Requests allowed per <see cref="Period"/> (a token bucket of this size, refilled each period).</summary>
    public int? Permits { get; set; }

    /// <summary>The refill period of the bucket; default one second.</summary>
    public TimeSpan? Period { get; set; }

    /// <summary>
    /// One bucket per calling service (its verified caller name) instead of one for all callers. Callers are verified
    /// only with a <c>callerSigningKey</c>; without one, and for anonymous callers, all share one bucket.
    /// </summary>
    public bool? PerCaller { get; set; }

    /// <summary>Requests handled at once; more are answered 429 at once.</summary>
    public int? MaxConcurrent { get; set; }
}

/// <summary>
/// Inbound rate and concurrency limits of a meshed ASP.NET Core service, from its own policy
/// (<c>policy.extensions.rateLimit</c> of <c>mesh.serviceName</c>), on System.Threading.RateLimiting: a token bucket
/// per service or per caller, and a concurrency limit. A request over a limit is answered 429 with
/// <c>Retry-After</c> and counted in <c>mesh.ratelimit.rejections</c>. Limits change live with the policy; the buckets
/// are kept while the policy is unchanged.
/// </summary>
public sealed class RateLimitExtension : IInboundExtension, IConfigurableExtension, IDisposable
{
    private readonly MeshRuntime _runtime;
    private readonly OwnServiceSettings<RateLimitSettings> _settings;
    private readonly ConcurrentDictionary<string, Limiters> _limiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly Counter<long> _rejections;

    /// <summary>The settings key.</summary>
    public const string ExtensionName = "rateLimit";

    /// <summary>Creates the extension for <paramref name="runtime"/>.</summary>
    public RateLimitExtension(MeshRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        _runtime = runtime;
        _settings = new(runtime, ExtensionName, new(ExtensionName, SettingsJson.Parse<RateLimitSettings>, ValidateSettings));
        _rejections = runtime.Telemetry.Meter.CreateCounter<long>("mesh.ratelimit.rejections", "{request}", "Inbound requests answered 429 by a rate or concurrency limit.");
    }

    /// <inheritdoc />
    public string Name => ExtensionName;

    /// <inheritdoc />
    public int Order => 200;

    /// <inheritdoc />
    public IEnumerable<string> ValidateSettings(JsonElement settings) => SettingsJson.Validate<RateLimitSettings>(settings, Validate);

    /// <inheritdoc />
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);

        // Handed on without a frame of its own when the service has no limit.
        return _settings.TryGet(out var service, out var settings) ? InvokeLimitedAsync(context, next, service, settings) : next(context);
    }

    private async Task InvokeLimitedAsync(HttpContext context, RequestDelegate next, MeshService service, RateLimitSettings settings)
    {
        var limiters = LimitersFor(service, settings);

        // Only a verified caller has a bucket of its own: without caller signing anyone can send any caller name, and
        // each fresh name would be a fresh bucket. Unverified and anonymous callers share one.
        var caller = _runtime.Snapshot.CallerSignature is null ? "" : MeshContext.Current?.Caller ?? "";
        using var token = limiters.Tokens?.AttemptAcquire(caller);
        if (token is { IsAcquired: false })
        {
            Reject(context, service, "rate", token.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : settings.Period ?? TimeSpan.FromSeconds(1));
            return;
        }

        using var slot = limiters.Concurrency?.AttemptAcquire();
        if (slot is { IsAcquired: false })
        {
            Reject(context, service, "concurrency", TimeSpan.FromSeconds(1));
            return;
        }

        await next(context).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var limiters in _limiters.Values)
        {
            limiters.Dispose();
        }
    }

    private static IEnumerable<string> Validate(RateLimitSettings settings)
    {
        if (settings.Permits is null && settings.MaxConcurrent is null)
        {
            yield return "set permits, maxConcurrent or both";
        }

        if (settings.Permits is < 1)
        {
            yield return "permits must be 1 or more";
        }

        if (settings.Period is { } period && period <= TimeSpan.Zero)
        {
            yield return "period must be positive";
        }

        if (settings.MaxConcurrent is < 1)
        {
            yield return "maxConcurrent must be 1 or more";
        }
    }

    private Limiters LimitersFor(MeshService service, RateLimitSettings settings)
    {
        if (_limiters.TryGetValue(service.Name, out var current) && current.Fingerprint == service.PolicyFingerprint)
        {
            return current;
        }

        var created = new Limiters(service.PolicyFingerprint, settings);
        if (_limiters.TryGetValue(service.Name, out current) && current.Fingerprint == service.PolicyFingerprint)
        {
            created.Dispose();
            return current;
        }

        _limiters[service.Name] = created;
        current?.Dispose();
        return created;
    }

    private void Reject(HttpContext context, MeshService service, string limit, TimeSpan retryAfter)
    {
        _rejections.Add(1, new KeyValuePair<string, object?>("mesh.service", service.Name), new KeyValuePair<string, object?>("mesh.limit", limit));
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
    }

    private sealed class Limiters : IDisposable
    {
        public Limiters(string fingerprint, RateLimitSettings settings)
        {
            Fingerprint = fingerprint;
            if (settings.Permits is { } permits)
            {
                // No timer per bucket: the partitioned limiter's own timer replenishes them, as it does for buckets
                // made by RateLimitPartition.GetTokenBucketLimiter. That helper is not used because it wraps its
                // factory in a new closure on every acquire; this factory is made once.
                var bucket = new TokenBucketRateLimiterOptions
                {
                    TokenLimit = permits,
                    TokensPerPeriod = permits,
                    ReplenishmentPeriod = settings.Period ?? TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = false,
                };
                Func<string, RateLimiter> create = _ => new TokenBucketRateLimiter(bucket);
                Tokens = settings.PerCaller == true
                    ? PartitionedRateLimiter.Create<string, string>(caller => RateLimitPartition.Get(caller, create))
                    : PartitionedRateLimiter.Create<string, string>(_ => RateLimitPartition.Get("", create));
            }

            if (settings.MaxConcurrent is { } max)
            {
                Concurrency = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = max, QueueLimit = 0 });
            }
        }

        public string Fingerprint { get; }

        public PartitionedRateLimiter<string>? Tokens { get; }

        public ConcurrencyLimiter? Concurrency { get; }

        public void Dispose()
        {
            Tokens?.Dispose();
            Concurrency?.Dispose();
        }
    }
}
