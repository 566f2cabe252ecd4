using Mesh.Model;

namespace Mesh.LoadBalancing;

/// <summary>
/// The warm-up ramp of a service: an endpoint that started <c>age</c> ago gets
/// <c>weight × max(minShare, (age / duration)^curve)</c> until <c>age ≥ duration</c>.
/// </summary>
public sealed class WarmUp
{
    private const double MinShare = 0.01;
    private readonly TimeProvider _time;
    private readonly long _originTimestamp;
    private readonly DateTimeOffset _originTime;

    /// <summary>Creates a ramp.</summary>
    public WarmUp(TimeSpan duration, double curve, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        Duration = duration;
        Curve = curve;
        _time = time;
        _originTimestamp = time.GetTimestamp();
        _originTime = time.GetUtcNow();
    }

    /// <summary>Time to full weight.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Exponent of the ramp.</summary>
    public double Curve { get; }

    /// <summary>The weight of <paramref name="endpoint"/> at <paramref name="timestamp"/>.</summary>
    public double EffectiveWeight(Endpoint endpoint, long timestamp)
    {
        if (endpoint.StartedAt is not { } started)
        {
            return endpoint.Weight;
        }

        var now = _originTime + _time.GetElapsedTime(_originTimestamp, timestamp);
        var age = now - started;
        if (age >= Duration)
        {
            return endpoint.Weight;
        }

        var share = age <= TimeSpan.Zero ? 0 : Math.Pow(age / Duration, Curve);
        return endpoint.Weight * Math.Max(MinShare, share);
    }

    /// <summary>The timestamp after which none of <paramref name="endpoints"/> is warming any more.</summary>
    public long LastWarmTimestamp(IEnumerable<Endpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var latest = DateTimeOffset.MinValue;
        foreach (var endpoint in endpoints)
        {
            if (endpoint.StartedAt is { } started && started > latest)
            {
                latest = started;
            }
        }

        if (latest == DateTimeOffset.MinValue)
        {
            return 0;
        }

        var remaining = latest + Duration - _originTime;
        return remaining <= TimeSpan.Zero ? 0 : _originTimestamp + (long)(remaining.TotalSeconds * _time.TimestampFrequency);
    }
}
