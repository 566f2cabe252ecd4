using Mesh.Model;

namespace Mesh.LoadBalancing;

/// <summary>What a picker knows about the request it picks for. A ref struct: it lives for one pick only.</summary>
public readonly ref struct PickContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="timestamp">Now, as <see cref="TimeProvider.GetTimestamp"/>.</param>
    /// <param name="hashKey">The value consistent hashing works on; empty when the request has none.</param>
    /// <param name="excluded">Endpoints already tried by this call, to be avoided when another is available.</param>
    public PickContext(long timestamp, ReadOnlySpan<char> hashKey = default, IReadOnlyList<Endpoint>? excluded = null)
    {
        Timestamp = timestamp;
        HashKey = hashKey;
        Excluded = excluded;
    }

    /// <summary>Now, as <see cref="TimeProvider.GetTimestamp"/>.</summary>
    public long Timestamp { get; }

    /// <summary>The value consistent hashing works on.</summary>
    public ReadOnlySpan<char> HashKey { get; }

    /// <summary>Endpoints to avoid (already tried by this call).</summary>
    public IReadOnlyList<Endpoint>? Excluded { get; }

    internal bool IsExcluded(Endpoint endpoint)
    {
        if (Excluded is not { } excluded)
        {
            return false;
        }

        for (var i = 0; i < excluded.Count; i++)
        {
            if (ReferenceEquals(excluded[i], endpoint) || (excluded[i].Id == endpoint.Id && excluded[i].Service == endpoint.Service))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>How strictly a pick treats ejected and excluded endpoints; relaxed step by step when nothing is left.</summary>
internal enum Strictness
{
    /// <summary>Avoid ejected and excluded endpoints.</summary>
    Strict,

    /// <summary>All healthy ones are excluded or ejected: ignore ejection (Envoy's "panic" mode).</summary>
    IgnoreEjection,

    /// <summary>Every endpoint was tried: reuse one rather than fail the retry.</summary>
    IgnoreAll,
}

internal static class Availability
{
    public static bool IsAvailable(Endpoint endpoint, in PickContext context, Strictness strictness) => strictness switch
    {
        Strictness.Strict => !endpoint.State.IsEjected(context.Timestamp) && !context.IsExcluded(endpoint),
        Strictness.IgnoreEjection => !context.IsExcluded(endpoint),
        _ => true,
    };
}
