using System.Diagnostics;

namespace Mesh;

/// <summary>
/// Watches <see cref="DiagnosticListener.AllListeners"/> and attaches the registered observers to the listeners
/// they name. Listeners created later (a library loaded after start-up) are picked up as they appear, and an
/// observer registered later is attached to the listeners already seen.
/// </summary>
internal sealed class DiagnosticSubscriber : IObserver<DiagnosticListener>
{
    private readonly Lock _gate = new();
    private readonly List<ListenerObserver> _registrations = [];
    private readonly List<DiagnosticListener> _seen = [];

    public DiagnosticSubscriber() => DiagnosticListener.AllListeners.Subscribe(this);

    public void Register(ListenerObserver registration)
    {
        DiagnosticListener[] matching;
        lock (_gate)
        {
            _registrations.Add(registration);
            matching = [.. _seen.Where(l => l.Name == registration.ListenerName)];
        }

        foreach (var listener in matching)
        {
            registration.SubscribeTo(listener);
        }
    }

    public void OnNext(DiagnosticListener value)
    {
        ListenerObserver[] matching;
        lock (_gate)
        {
            _seen.Add(value);
            matching = [.. _registrations.Where(r => r.ListenerName == value.Name)];
        }

        foreach (var registration in matching)
        {
            registration.SubscribeTo(value);
        }
    }

    public void OnError(Exception error)
    {
    }

    public void OnCompleted()
    {
    }
}

/// <summary>An observer for the events of the diagnostic listener named <see cref="ListenerName"/>.</summary>
/// <param name="ListenerName">The <see cref="DiagnosticListener.Name"/> to attach to.</param>
/// <param name="Observer">Receives the events; must never throw.</param>
/// <param name="IsEnabled">Which events to produce at all; the fewer, the cheaper for every request.</param>
public sealed record ListenerObserver(string ListenerName, IObserver<KeyValuePair<string, object?>> Observer, Func<string, object?, object?, bool> IsEnabled)
{
    internal void SubscribeTo(DiagnosticListener listener) => listener.Subscribe(Observer, IsEnabled);
}
