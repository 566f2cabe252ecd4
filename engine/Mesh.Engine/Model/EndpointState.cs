namespace Mesh.Model;

/// <summary>
/// Mutable, thread-safe runtime state of one endpoint: in-flight requests (for <c>leastRequest</c>),
/// failure streaks and ejection (for outlier detection). Updated with interlocked operations only.
/// </summary>
public sealed class EndpointState
{
    private int _active;
    private long _ejectedUntil;
    private int _consecutiveFailures;
    private int _ejections;
    private long _requests;
    private long _failures;

    /// <summary>Requests sent to the endpoint and not yet completed.</summary>
    public int ActiveRequests => Volatile.Read(ref _active);

    /// <summary>Failures since the last success.</summary>
    public int ConsecutiveFailures => Volatile.Read(ref _consecutiveFailures);

    /// <summary>How many times the endpoint was ejected.</summary>
    public int Ejections => Volatile.Read(ref _ejections);

    /// <summary>Completed requests.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Failed requests.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>
    /// The <see cref="TimeProvider.GetTimestamp"/> value until which the endpoint is ejected; 0 when it never was. An
    /// ejection ends by time alone: once this is past, the endpoint is readmitted.
    /// </summary>
    public long EjectedUntil => Volatile.Read(ref _ejectedUntil);

    /// <summary>Whether the endpoint is ejected at <paramref name="timestamp"/>.</summary>
    public bool IsEjected(long timestamp)
    {
        var until = Volatile.Read(ref _ejectedUntil);
        return until != 0 && timestamp < until;
    }

    /// <summary>Marks a request as sent.</summary>
    public void OnStarted() => Interlocked.Increment(ref _active);

    /// <summary>
    /// Takes a request marked as sent out of the in-flight count without counting it as a request, a success or a
    /// failure. Either its outcome comes later, through <see cref="OnCompleted(bool, bool)"/> with <c>answered</c> set
    /// (a gRPC call is answered with its response headers and ends with the status in its trailers, which may come
    /// much later, or never for a stream the application abandons), or it never comes (the send was abandoned before
    /// the outcome could be seen).
    /// </summary>
    public void LeaveInFlight() => Interlocked.Decrement(ref _active);

    /// <summary>Marks a request as completed, and returns the failure streak after it.</summary>
    public int OnCompleted(bool failed) => OnCompleted(failed, answered: false);

    /// <summary>
    /// Marks a request as completed, and returns the failure streak after it; <paramref name="answered"/> when
    /// <see cref="LeaveInFlight"/> already took it out of the in-flight count.
    /// </summary>
    public int OnCompleted(bool failed, bool answered)
    {
        if (!answered)
        {
            Interlocked.Decrement(ref _active);
        }

        Interlocked.Increment(ref _requests);
        if (!failed)
        {
            Volatile.Write(ref _consecutiveFailures, 0);
            return 0;
        }

        Interlocked.Increment(ref _failures);
        return Interlocked.Increment(ref _consecutiveFailures);
    }

    /// <summary>Ejects the endpoint until <paramref name="untilTimestamp"/>, and returns how many times it was ejected.</summary>
    public int Eject(long untilTimestamp)
    {
        Volatile.Write(ref _ejectedUntil, untilTimestamp);
        Volatile.Write(ref _consecutiveFailures, 0);
        return Interlocked.Increment(ref _ejections);
    }
}
