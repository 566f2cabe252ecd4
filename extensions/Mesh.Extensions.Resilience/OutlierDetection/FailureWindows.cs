using System.Runtime.CompilerServices;
using Mesh.Model;

namespace Mesh.Extensions.Resilience.OutlierDetection;

/// <summary>
/// The share of an endpoint's calls that failed within a window. Windows are fixed and measured on the endpoint's
/// own counters, with the baseline taken when a window starts, so only failures need looking at (a success never
/// trips anything) and nothing is stored per call. A window is immutable and replaced whole when a new one starts,
/// so a failure reads it without a lock; two failures starting a window at once both take nearly the same
/// baseline and the last one written stands, which is as good a baseline as the other.
/// </summary>
internal sealed class FailureWindows(TimeProvider time)
{
    private readonly ConditionalWeakTable<EndpointState, StrongBox<Window?>> _windows = [];

    /// <summary>
    /// Called on a failure (already counted in <paramref name="state"/>): whether at least
    /// <paramref name="minimum"/> calls were made in the current window and <paramref name="ratio"/> of them failed.
    /// </summary>
    public bool Reached(EndpointState state, double ratio, int minimum, TimeSpan length, long now)
    {
        var ticks = (long)(length.TotalSeconds * time.TimestampFrequency);
        var slot = Slot(state);
        var window = Volatile.Read(ref slot.Value);
        if (window is null || now - window.Start >= ticks)
        {
            window = new Window(now, state.Requests - 1, state.Failures - 1);
            Volatile.Write(ref slot.Value, window);
        }

        var requests = state.Requests - window.Requests;
        var failures = state.Failures - window.Failures;
        return requests >= minimum && failures >= ratio * requests;
    }

    /// <summary>Starts a new window after the current call, e.g. once the endpoint was taken out for what it did.</summary>
    public void Restart(EndpointState state, long now)
        => Volatile.Write(ref Slot(state).Value, new Window(now, state.Requests, state.Failures));

    private StrongBox<Window?> Slot(EndpointState state)
        => _windows.TryGetValue(state, out var slot) ? slot : _windows.GetValue(state, static _ => new StrongBox<Window?>());

    private sealed record Window(long Start, long Requests, long Failures);
}
