using Mesh.Configuration;
using Mesh.Model;

namespace Mesh.LoadBalancing;

/// <summary>Random choice in proportion to weight, by binary search over precomputed cumulative weights.</summary>
public sealed class WeightedRandomLoadBalancer : LoadBalancer
{
    /// <summary>The policy name.</summary>
    public const string KindName = "weightedRandom";

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override EndpointPicker CreatePicker(Endpoint[] endpoints, LoadBalancerDocument? settings, PickerSettings pickerSettings)
        => new Picker(endpoints, pickerSettings);

    private sealed class Picker : EndpointPicker
    {
        private readonly long[] _cumulative;

        public Picker(Endpoint[] endpoints, PickerSettings settings)
            : base(endpoints, settings)
        {
            _cumulative = new long[endpoints.Length];
            long total = 0;
            for (var i = 0; i < endpoints.Length; i++)
            {
                total += endpoints[i].Weight;
                _cumulative[i] = total;
            }
        }

        private protected override Endpoint? PickCore(in PickContext context, Strictness strictness)
        {
            var target = Random.Shared.NextInt64(_cumulative[^1]);
            var index = Array.BinarySearch(_cumulative, target + 1);
            if (index < 0)
            {
                index = ~index;
            }

            // An unavailable pick hands its turn to the next available endpoint: rare (ejections, retries),
            // and cheaper than rebuilding the table per request.
            return RandomLoadBalancer.ProbeFrom(Endpoints, index, context, strictness);
        }
    }
}
