using Mesh.Configuration;
using Mesh.Model;

namespace Mesh.LoadBalancing;

/// <summary>Uniform random choice, ignoring weights.</summary>
public sealed class RandomLoadBalancer : LoadBalancer
{
    /// <summary>The policy name.</summary>
    public const string KindName = "random";

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override EndpointPicker CreatePicker(Endpoint[] endpoints, LoadBalancerDocument? settings, PickerSettings pickerSettings)
        => new Picker(endpoints, pickerSettings);

    private sealed class Picker(Endpoint[] endpoints, PickerSettings settings) : EndpointPicker(endpoints, settings)
    {
        private protected override Endpoint? PickCore(in PickContext context, Strictness strictness)
            => ProbeFrom(Endpoints, Random.Shared.Next(Endpoints.Length), context, strictness);
    }

    /// <summary>The first available endpoint at or after <paramref name="start"/>, wrapping around.</summary>
    internal static Endpoint? ProbeFrom(Endpoint[] endpoints, int start, in PickContext context, Strictness strictness)
    {
        for (var i = 0; i < endpoints.Length; i++)
        {
            var candidate = endpoints[(start + i) % endpoints.Length];
            if (Availability.IsAvailable(candidate, context, strictness))
            {
                return candidate;
            }
        }

        return null;
    }
}
