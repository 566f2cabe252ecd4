using System.Runtime.CompilerServices;
using Mesh.Model;

namespace Mesh.Extensions.Resilience.OutlierDetection;

/// <summary>
/// The share of an endpoint's calls that failed within a window. Windows are fixed and measured on the endpoint's
/// own counters, with the baseline taken when a window starts, so only failures need looking at (a success never
/// trips anything) and nothing is stored per call.
/// </summary>
internal sealed class FailureWindows(TimeProvider time)
{
    private readonly ConditionalWeakTable<EndpointState, Window> _windows = [];

    /// <summary>
    /// Called on a failure (already counted in <paramref name="state"/>): whether at least
    /// <paramref name="minimum"/> calls were made in the current window and <paramref name="ratio"/> of them failed.
    /// </summary>
    public bool Reached(EndpointState state, double ratio, int minimum, TimeSpan length, long now)
    {
        var ticks = (long)(length.TotalSeconds * time.TimestampFrequency);
        var window = _windows.GetValue(state, s => new Window(now, s.Requests - 1, s.Failures - 1));
        lock (window)
        {
            if (now - window.Start >= ticks)
            {
                window.Restart(now, state, includingCurrent: true);
            }

            var requests = state.Requests - window.Requests;
            var failures = state.Failures - window.Failures;
            return requests >= minimum && failures >= ratio * requests;
        }
    }

    /// <summary>Starts a new window after the current call, e.g. once the endpoint was taken out for what it did.</summary>
    public void Restart(EndpointState state, long now)
    {
        var window = _windows.GetValue(state, s => new Window(now, s.Requests, s.Failures));
        lock (window)
        {
            window.Restart(now, state, includingCurrent: false);
        }
    }

    private sealed class Window(long start, long requests, long failures)
    {
        public long Start { get; private set; } = start;

        public long Requests { get; private set; } = requests;

        public long Failures { get; private set; } = failures;

        public void Restart(long now, EndpointState state, bool includingCurrent)
        {
            var current = includingCurrent ? 1 : 0;
            (Start, Requests, Failures) = (now, state.Requests - current, state.Failures - current);
        }
    }
}
