using Mesh.Configuration;
using Mesh.Model;

namespace Mesh.LoadBalancing;

/// <summary>
/// Ring hash (ketama): each endpoint owns virtual nodes on a 64-bit ring in proportion to its weight; a request
/// goes to the first node at or after the hash of its key (header, cookie or query value). Adding or removing
/// an endpoint moves only the keys of its own nodes. Requests without a key are spread at random.
/// </summary>
public sealed class ConsistentHashLoadBalancer : LoadBalancer
{
    /// <summary>The policy name.</summary>
    public const string KindName = "consistentHash";

    private const int NodesPerDefaultWeight = 100;
    private const int MaxRingSize = 100_000;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override EndpointPicker CreatePicker(Endpoint[] endpoints, LoadBalancerDocument? settings, PickerSettings pickerSettings)
    {
        ArgumentNullException.ThrowIfNull(pickerSettings);
        return new Picker(endpoints, pickerSettings with { SupportsWarmUp = false });
    }

    /// <summary>64-bit FNV-1a over UTF-16 code units, finished with the murmur3 mixer for an even spread.</summary>
    public static ulong Hash(ReadOnlySpan<char> key)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53UL;
        hash ^= hash >> 33;
        return hash;
    }

    private sealed class Picker : EndpointPicker
    {
        private readonly ulong[] _points;
        private readonly Endpoint[] _owners;

        public Picker(Endpoint[] endpoints, PickerSettings settings)
            : base(endpoints, settings)
        {
            long totalWeight = 0;
            foreach (var endpoint in endpoints)
            {
                totalWeight += endpoint.Weight;
            }

            var scale = Math.Min(NodesPerDefaultWeight / (double)EndpointWeights.Default, MaxRingSize / (double)totalWeight);
            var nodes = new List<(ulong Point, Endpoint Owner)>();
            foreach (var endpoint in endpoints)
            {
                var count = Math.Max(1, (int)(endpoint.Weight * scale));
                for (var i = 0; i < count; i++)
                {
                    nodes.Add((Hash($"{endpoint.Id}#{i}"), endpoint));
                }
            }

            nodes.Sort((a, b) => a.Point.CompareTo(b.Point));
            _points = [.. nodes.Select(n => n.Point)];
            _owners = [.. nodes.Select(n => n.Owner)];
        }

        private protected override Endpoint? PickCore(in PickContext context, Strictness strictness)
        {
            if (context.HashKey.IsEmpty)
            {
                return RandomLoadBalancer.ProbeFrom(Endpoints, Random.Shared.Next(Endpoints.Length), context, strictness);
            }

            var index = Array.BinarySearch(_points, Hash(context.HashKey));
            if (index < 0)
            {
                index = ~index;
            }

            // Walk clockwise past unavailable owners: keys of an ejected endpoint spread to its ring neighbours
            // and come back when it is readmitted.
            for (var i = 0; i < _owners.Length; i++)
            {
                var owner = _owners[(index + i) % _owners.Length];
                if (IsAvailable(owner, context, strictness))
                {
                    return owner;
                }
            }

            return null;
        }
    }
}
