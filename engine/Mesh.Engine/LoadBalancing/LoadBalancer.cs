using Mesh.Configuration;
using Mesh.Model;

namespace Mesh.LoadBalancing;

/// <summary>
/// A load-balancing algorithm, known by <see cref="Kind"/> (the <c>loadBalancer.kind</c> of a policy). It builds
/// one immutable <see cref="EndpointPicker"/> per candidate set when a snapshot is compiled.
/// </summary>
public abstract class LoadBalancer
{
    /// <summary>The name used in policies.</summary>
    public abstract string Kind { get; }

    /// <summary>Builds a picker over a non-empty candidate set.</summary>
    public abstract EndpointPicker CreatePicker(Endpoint[] endpoints, LoadBalancerDocument? settings, PickerSettings pickerSettings);
}

/// <summary>The load balancers known to a runtime, by kind. Custom balancers are added next to the built-ins.</summary>
public sealed class LoadBalancerRegistry
{
    private readonly Dictionary<string, LoadBalancer> _balancers = new(StringComparer.Ordinal);

    /// <summary>Creates a registry with the built-in balancers.</summary>
    public LoadBalancerRegistry()
    {
        Add(new RoundRobinLoadBalancer());
        Add(new RandomLoadBalancer());
        Add(new WeightedRandomLoadBalancer());
        Add(new LeastRequestLoadBalancer());
        Add(new ConsistentHashLoadBalancer());
        Add(new ZoneAwareLoadBalancer());
    }

    /// <summary>A shared registry holding only the built-ins.</summary>
    public static LoadBalancerRegistry Default { get; } = new();

    /// <summary>The known kinds.</summary>
    public IEnumerable<string> Names => _balancers.Keys;

    /// <summary>Adds or replaces a balancer.</summary>
    public LoadBalancerRegistry Add(LoadBalancer balancer)
    {
        ArgumentNullException.ThrowIfNull(balancer);
        _balancers[balancer.Kind] = balancer;
        return this;
    }

    /// <summary>Finds a balancer by kind.</summary>
    public bool TryGet(string kind, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out LoadBalancer? balancer)
        => _balancers.TryGetValue(kind, out balancer);
}
