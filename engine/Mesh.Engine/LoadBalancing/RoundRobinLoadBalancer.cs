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

        // Each endpoint's turns are spread evenly over one round: its k-th turn falls at (k + ½) / weight of the
        // round, and the schedule is all turns in time order (ties by position, so equal weights rotate in order).
        // That interleaves like nginx's smooth weighted round robin, in O(L log L) for a schedule of length L
        // rather than O(L·n): a service of 16,000 endpoints compiles in milliseconds.
        private static Endpoint[] BuildSchedule(Endpoint[] endpoints)
        {
            var weights = ScaledWeights(endpoints);
            var length = 0;
            foreach (var w in weights)
            {
                length += w;
            }

            var turns = new (double At, int Index)[length];
            var slot = 0;
            for (var i = 0; i < endpoints.Length; i++)
            {
                for (var k = 0; k < weights[i]; k++)
                {
                    turns[slot++] = ((k + 0.5) / weights[i], i);
                }
            }

            Array.Sort(turns);
            var schedule = new Endpoint[length];
            for (var i = 0; i < length; i++)
            {
                schedule[i] = endpoints[turns[i].Index];
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
