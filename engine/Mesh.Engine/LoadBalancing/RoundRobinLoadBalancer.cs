using Mesh.Configuration;
using Mesh.Model;

namespace Mesh.LoadBalancing;

/// <summary>
/// Weighted round robin: a precomputed, interleaved schedule in which each endpoint appears in proportion to
/// its weight, walked by one interlocked counter. Equal weights give plain rotation.
/// </summary>
public sealed class RoundRobinLoadBalancer : LoadBalancer
{
    /// <summary>The policy name.</summary>
    public const string KindName = "roundRobin";

    /// <summary>Longest schedule; weights are scaled down to fit, so shares stay within 1/MaxSchedule.</summary>
    internal const int MaxSchedule = 4096;

    /// <inheritdoc />
    public override string Kind => KindName;

    /// <inheritdoc />
    public override EndpointPicker CreatePicker(Endpoint[] endpoints, LoadBalancerDocument? settings, PickerSettings pickerSettings)
        => new Picker(endpoints, pickerSettings);

    internal sealed class Picker : EndpointPicker
    {
        private readonly Endpoint[] _schedule;
        private int _next = -1;

        public Picker(Endpoint[] endpoints, PickerSettings settings)
            : base(endpoints, settings)
        {
            _schedule = BuildSchedule(endpoints);
        }

        internal Endpoint? PickAt(in PickContext context, Strictness strictness) => PickCore(context, strictness);

        private protected override Endpoint? PickCore(in PickContext context, Strictness strictness)
        {
            var start = (uint)Interlocked.Increment(ref _next);
            for (var i = 0; i < _schedule.Length; i++)
            {
                var candidate = _schedule[(int)((start + (uint)i) % (uint)_schedule.Length)];
                if (IsAvailable(candidate, context, strictness))
                {
                    return candidate;
                }
            }

            return null;
        }

        // Smooth weighted round robin (as nginx does it) run once at build time: the schedule spreads each
        // endpoint's turns evenly instead of bunching them.
        private static Endpoint[] BuildSchedule(Endpoint[] endpoints)
        {
            var weights = ScaledWeights(endpoints);
            var length = 0;
            foreach (var w in weights)
            {
                length += w;
            }

            var schedule = new Endpoint[length];
            var current = new long[endpoints.Length];
            for (var slot = 0; slot < length; slot++)
            {
                var best = 0;
                for (var i = 0; i < endpoints.Length; i++)
                {
                    current[i] += weights[i];
                    if (current[i] > current[best])
                    {
                        best = i;
                    }
                }

                current[best] -= length;
                schedule[slot] = endpoints[best];
            }

            return schedule;
        }

        private static int[] ScaledWeights(Endpoint[] endpoints)
        {
            var gcd = 0;
            long total = 0;
            foreach (var endpoint in endpoints)
            {
                gcd = Gcd(gcd, endpoint.Weight);
                total += endpoint.Weight;
            }

            var weights = new int[endpoints.Length];
            var divisor = Math.Max(1.0, total / (double)Math.Max(1, gcd) / MaxSchedule);
            for (var i = 0; i < endpoints.Length; i++)
            {
                weights[i] = Math.Max(1, (int)Math.Round(endpoints[i].Weight / (double)Math.Max(1, gcd) / divisor));
            }

            return weights;
        }

        private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);
    }
}
