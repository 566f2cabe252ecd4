namespace Mesh.Extensions.Resilience.Retry;

/// <summary>
/// Caps retries in flight to a share of the requests in flight (as Envoy's retry budget does), so that when a
/// whole service is down retries cannot multiply the load on it. A few retries are always allowed.
/// </summary>
internal sealed class RetryBudget(double percent)
{
    private const int MinimumRetries = 3;
    private int _requests;
    private int _retries;

    public void RequestStarted() => Interlocked.Increment(ref _requests);

    public void RequestEnded() => Interlocked.Decrement(ref _requests);

    /// <summary>Takes a retry slot if the budget allows; release it with <see cref="RetryEnded"/>.</summary>
    public bool TryStartRetry()
    {
        var limit = Math.Max(MinimumRetries, (int)(Volatile.Read(ref _requests) * percent / 100));
        if (Interlocked.Increment(ref _retries) <= limit)
        {
            return true;
        }

        Interlocked.Decrement(ref _retries);
        return false;
    }

    public void RetryEnded() => Interlocked.Decrement(ref _retries);
}
