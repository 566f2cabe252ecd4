using System.Diagnostics;

namespace Mesh.Testing;

/// <summary>Where a <see cref="ThrowingHttpSubscriber"/> throws.</summary>
public enum SubscriberFailure
{
    /// <summary>When HttpClient asks whether the event is wanted.</summary>
    InPredicate,

    /// <summary>It wants the event, and throws when the event is raised.</summary>
    InEvent,
}

/// <summary>
/// A third-party subscriber of HttpClient's diagnostic listener that throws at one event, as a faulty instrumentation
/// library would. It throws only in async flows where <see cref="Armed"/> was set, because the listener is shared by
/// the tests running in parallel; unarmed, it wants no event at all. Create it after the mesh has subscribed to the
/// listener (after a first HttpClient call): later subscribers are asked and told first.
/// </summary>
public sealed class ThrowingHttpSubscriber : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    private readonly string _eventName;
    private readonly SubscriberFailure _failure;
    private readonly Func<Exception> _exception;
    private readonly AsyncLocal<bool> _armed = new();
    private readonly IDisposable _all;
    private readonly List<IDisposable> _subscriptions = [];

    /// <summary>Subscribes a subscriber that fails at <paramref name="eventName"/>, with <paramref name="exception"/> or a <see cref="Failure"/>.</summary>
    public ThrowingHttpSubscriber(string eventName, SubscriberFailure failure, Func<Exception>? exception = null)
    {
        _eventName = eventName;
        _failure = failure;
        _exception = exception ?? (() => new Failure());
        _all = DiagnosticListener.AllListeners.Subscribe(this);
    }

    /// <summary>Whether requests sent from the current async flow make it throw.</summary>
    public bool Armed
    {
        get => _armed.Value;
        set => _armed.Value = value;
    }

    /// <summary>Attaches to HttpClient's listener (told of existing listeners at once, and of new ones as they appear).</summary>
    public void OnNext(DiagnosticListener value)
    {
        if (value.Name == "HttpHandlerDiagnosticListener")
        {
            lock (_subscriptions)
            {
                _subscriptions.Add(value.Subscribe(this, IsEnabled));
            }
        }
    }

    /// <summary>Throws at the event when armed and failing there.</summary>
    public void OnNext(KeyValuePair<string, object?> value)
    {
        if (_failure == SubscriberFailure.InEvent && Armed && value.Key == _eventName)
        {
            throw _exception();
        }
    }

    /// <inheritdoc />
    public void OnError(Exception error)
    {
    }

    /// <inheritdoc />
    public void OnCompleted()
    {
    }

    /// <summary>Unsubscribes.</summary>
    public void Dispose()
    {
        _all.Dispose();
        lock (_subscriptions)
        {
            _subscriptions.ForEach(s => s.Dispose());
        }
    }

    private bool IsEnabled(string name, object? arg1, object? arg2)
    {
        if (!Armed || name != _eventName)
        {
            return false;
        }

        return _failure == SubscriberFailure.InEvent ? true : throw _exception();
    }

    /// <summary>What the subscriber throws by default.</summary>
    public sealed class Failure() : Exception("a diagnostic subscriber fails on purpose");
}
