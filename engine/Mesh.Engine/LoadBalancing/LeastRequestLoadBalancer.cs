using Mesh.Configuration;
using Mesh.Model;

namespace Mesh.LoadBalancing;

/// <summary>
/// Power of two choices: sample two endpoints at random and take the one with fewer requests in flight
/// relative to its weight. Close to "least loaded" without scanning every endpoint per request.
/// </summary>
public sealed class LeastRequestLoadBalancer : LoadBalancer
{
    /// <summary>The policy name.</summary>
    public const string KindName = "leastRequest";

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override EndpointPicker CreatePicker(Endpoint[] endpoints, LoadBalancerDocument? settings, PickerSettings pickerSettings)
        => new Picker(endpoints, pickerSettings);

    private sealed class Picker(Endpoint[] endpoints, PickerSettings settings) : EndpointPicker(endpoints, settings)
    {
        private protected override Endpoint? PickCore(in PickContext context, Strictness strictness)
        {
            if (Endpoints.Length == 1)
            {
                return IsAvailable(Endpoints[0], context, strictness) ? Endpoints[0] : null;
            }

            var first = RandomLoadBalancer.ProbeFrom(Endpoints, Random.Shared.Next(Endpoints.Length), context, strictness);
            if (first is null)
            {
                return null;
            }

            var second = RandomLoadBalancer.ProbeFrom(Endpoints, Random.Shared.Next(Endpoints.Length), context, strictness)!;
            return Load(second) < Load(first) ? second : first;
        }

        private static double Load(Endpoint endpoint) => (endpoint.State.ActiveRequests + 1) / (double)endpoint.Weight;
    }
}
