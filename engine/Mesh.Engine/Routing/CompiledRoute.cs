using System.Collections.Frozen;
using Mesh.LoadBalancing;
using Mesh.Model;

namespace Mesh.Routing;

/// <summary>A compiled route: its conditions and weighted destinations.</summary>
public sealed class CompiledRoute
{
    private static readonly FrozenDictionary<string, WeightedDestinations> NoLanes = FrozenDictionary.ToFrozenDictionary<string, WeightedDestinations>([], StringComparer.Ordinal);
    private readonly WeightedDestinations _all;
    private readonly FrozenDictionary<string, WeightedDestinations> _byLane;

    internal CompiledRoute(string name, RequestMatcher matcher, CompiledDestination[] destinations)
    {
        Name = name;
        Matcher = matcher;
        Destinations = destinations;
        _all = new WeightedDestinations(destinations);

        // A lane outranks the route's split: a request in lane X goes to the destinations that have X endpoints,
        // in their relative weights, and only falls back when none has.
        _byLane = Array.TrueForAll(destinations, d => d.LanePickers.Count == 0) ? NoLanes : destinations.SelectMany(d => d.LanePickers.Keys).Distinct(StringComparer.Ordinal)
            .ToFrozenDictionary(lane => lane, lane => new WeightedDestinations([.. destinations.Where(d => d.LanePickers.ContainsKey(lane))]), StringComparer.Ordinal);
    }

    /// <summary>The route name (<c>default</c> for the implicit catch-all).</summary>
    public string Name { get; }

    /// <summary>The conditions.</summary>
    public RequestMatcher Matcher { get; }

    /// <summary>The weighted destinations.</summary>
    public CompiledDestination[] Destinations { get; }

    /// <summary>Picks a destination by weight; for a lane that some destinations serve, among those only.</summary>
    internal CompiledDestination PickDestination(string? lane)
        => lane is not null && _byLane.TryGetValue(lane, out var laneDestinations) ? laneDestinations.Pick() : _all.Pick();

    private sealed class WeightedDestinations
    {
        private readonly CompiledDestination[] _destinations;
        private readonly long[] _cumulative;

        public WeightedDestinations(CompiledDestination[] destinations)
        {
            _destinations = destinations;
            _cumulative = new long[destinations.Length];
            long total = 0;
            for (var i = 0; i < destinations.Length; i++)
            {
                total += destinations[i].Weight;
                _cumulative[i] = total;
            }
        }

        public CompiledDestination Pick()
        {
            if (_destinations.Length == 1)
            {
                return _destinations[0];
            }

            var target = Random.Shared.NextInt64(_cumulative[^1]) + 1;
            var index = Array.BinarySearch(_cumulative, target);
            return _destinations[index < 0 ? ~index : index];
        }
    }
}

/// <summary>
/// A compiled destination: the endpoints of its subset, split by lane, each set with its own picker.
/// </summary>
public sealed class CompiledDestination
{
    internal CompiledDestination(FrozenDictionary<string, string> subset, int weight, EndpointPicker? basePicker,
        FrozenDictionary<string, EndpointPicker> lanePickers, EndpointPicker? explicitPicker)
    {
        Subset = subset;
        Weight = weight;
        BasePicker = basePicker;
        LanePickers = lanePickers;
        ExplicitPicker = explicitPicker;
    }

    /// <summary>The tags an endpoint must carry.</summary>
    public FrozenDictionary<string, string> Subset { get; }

    /// <summary>Relative share of the route's traffic.</summary>
    public int Weight { get; }

    /// <summary>Picker over the subset's base-lane (untagged) endpoints; null when there are none.</summary>
    public EndpointPicker? BasePicker { get; }

    /// <summary>Pickers over the subset's endpoints of each lane.</summary>
    public FrozenDictionary<string, EndpointPicker> LanePickers { get; }

    /// <summary>
    /// Set when the subset names a lane itself: the route chose the lane explicitly, so the request's own lane
    /// does not narrow it further.
    /// </summary>
    public EndpointPicker? ExplicitPicker { get; }

    /// <summary>Human-readable subset, for explain output.</summary>
    public string Describe() => Subset.Count == 0 ? "all endpoints" : string.Join(", ", Subset.Select(t => $"{t.Key}={t.Value}"));
}
