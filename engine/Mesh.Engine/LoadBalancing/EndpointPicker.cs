using Mesh.Model;

namespace Mesh.LoadBalancing;

/// <summary>
/// Picks one endpoint out of a fixed candidate set. Built once per snapshot for each candidate set and then
/// shared by all requests: implementations are thread-safe and allocate nothing per pick.
/// </summary>
public abstract class EndpointPicker
{
    private readonly WarmUp? _warmUp;
    private readonly long _warmUntil;

    /// <summary>Creates a picker over <paramref name="endpoints"/> (non-empty, weights above 0).</summary>
    protected EndpointPicker(Endpoint[] endpoints, PickerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Endpoints = endpoints;
        if (settings.WarmUp is { } warmUp && settings.SupportsWarmUp)
        {
            _warmUp = warmUp;
            _warmUntil = warmUp.LastWarmTimestamp(endpoints);
        }
    }

    /// <summary>The candidates.</summary>
    public Endpoint[] Endpoints { get; }

    /// <summary>
    /// Picks an endpoint: a healthy one not yet tried when there is one, else an ejected one (all are ejected:
    /// better to try than to fail), else one already tried. Null only for an empty candidate set.
    /// </summary>
    public Endpoint? Pick(in PickContext context)
    {
        for (var strictness = Strictness.Strict; strictness <= Strictness.IgnoreAll; strictness++)
        {
            if (PickAt(context, strictness) is { } picked)
            {
                return picked;
            }
        }

        return null;
    }

    /// <summary>Picks a healthy endpoint not yet tried, or null when there is none.</summary>
    public Endpoint? PickAvailable(in PickContext context) => PickAt(context, Strictness.Strict);

    private Endpoint? PickAt(in PickContext context, Strictness strictness)
        => _warmUp is not null && context.Timestamp < _warmUntil ? PickWarming(context, strictness) : PickCore(context, strictness);

    /// <summary>The balancer's own choice among the available candidates, or null when none is available.</summary>
    private protected abstract Endpoint? PickCore(in PickContext context, Strictness strictness);

    private protected static bool IsAvailable(Endpoint endpoint, in PickContext context, Strictness strictness)
        => Availability.IsAvailable(endpoint, context, strictness);

    // While any candidate is still ramping up, every balancer that honours warm-up picks by weighted random
    // over the ramped weights: the ramp is a statement about shares of traffic, which only weights express.
    private Endpoint? PickWarming(in PickContext context, Strictness strictness)
    {
        double total = 0;
        foreach (var endpoint in Endpoints)
        {
            if (IsAvailable(endpoint, context, strictness))
            {
                total += _warmUp!.EffectiveWeight(endpoint, context.Timestamp);
            }
        }

        if (total <= 0)
        {
            return null;
        }

        var target = Random.Shared.NextDouble() * total;
        Endpoint? last = null;
        foreach (var endpoint in Endpoints)
        {
            if (!IsAvailable(endpoint, context, strictness))
            {
                continue;
            }

            last = endpoint;
            target -= _warmUp!.EffectiveWeight(endpoint, context.Timestamp);
            if (target < 0)
            {
                return endpoint;
            }
        }

        return last;
    }
}

/// <summary>What a balancer is given besides the candidates.</summary>
/// <param name="WarmUp">The service's warm-up ramp, if any.</param>
/// <param name="Zone">The caller's zone, for zone-aware picking.</param>
/// <param name="SupportsWarmUp">False for balancers whose choice must not move (consistent hashing).</param>
public sealed record PickerSettings(WarmUp? WarmUp, string? Zone, bool SupportsWarmUp = true);
