using Mesh.Configuration;
using Mesh.Model;

namespace Mesh.LoadBalancing;

/// <summary>
/// Keeps traffic in the caller's zone (<c>mesh.zone</c>) while that zone has an available endpoint, and spills
/// over to every zone otherwise. Weighted round robin inside each set.
/// </summary>
public sealed class ZoneAwareLoadBalancer : LoadBalancer
{
    /// <summary>The policy name.</summary>
    public const string KindName = "zoneAware";

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override EndpointPicker CreatePicker(Endpoint[] endpoints, LoadBalancerDocument? settings, PickerSettings pickerSettings)
        => new Picker(endpoints, pickerSettings);

    private sealed class Picker : EndpointPicker
    {
        private readonly RoundRobinLoadBalancer.Picker? _local;
        private readonly RoundRobinLoadBalancer.Picker _all;

        public Picker(Endpoint[] endpoints, PickerSettings settings)
            : base(endpoints, settings)
        {
            var noWarmUp = settings with { WarmUp = null };
            _all = new RoundRobinLoadBalancer.Picker(endpoints, noWarmUp);
            var local = settings.Zone is null ? [] : Array.FindAll(endpoints, e => string.Equals(e.Zone, settings.Zone, StringComparison.Ordinal));
            _local = local.Length > 0 ? new RoundRobinLoadBalancer.Picker(local, noWarmUp) : null;
        }

        private protected override Endpoint? PickCore(in PickContext context, Strictness strictness)
            => _local?.PickAt(context, strictness) ?? _all.PickAt(context, strictness);
    }
}
