using Grpc.Core;
using Mesh.Runtime;
using Microsoft.Extensions.Logging;

namespace Mesh.Providers.Etcd;

/// <summary>
/// The loop of a long-running etcd client (the watch, the registration): run an attempt again and again until
/// stopped; after a failure log and count it (<c>mesh.provider.failures</c>), move on to the next member and wait a
/// backoff that doubles up to <see cref="EtcdProviderOptions.MaxBackoff"/>. Every exception counts as a failure, not
/// only transport errors: an unexpected one that ended the loop would freeze the mesh on its last state for the
/// life of the process.
/// </summary>
internal sealed partial class EtcdRetryLoop(EtcdConnection connection, EtcdProviderOptions options, MeshRuntime runtime, string source)
{
    private static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(100);
    private readonly ILogger _logger = runtime.LoggerFactory.CreateLogger("Mesh.Providers.Etcd");
    private TimeSpan _backoff = InitialBackoff;

    /// <summary>Called by an attempt once it got through, so the next failure retries quickly again.</summary>
    public void Succeeded() => _backoff = InitialBackoff;

    /// <summary>Runs <paramref name="attempt"/> until <paramref name="stopping"/> is cancelled.</summary>
    /// <param name="attempt">One connection's work; returning normally starts the next attempt at once.</param>
    /// <param name="failed">Told about each failure after it was reported, before the backoff; optional.</param>
    /// <param name="stopping">Ends the loop.</param>
    public async Task RunAsync(Func<CancellationToken, Task> attempt, Action<Exception>? failed, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await attempt(stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                try
                {
                    Report(ex);
                    failed?.Invoke(ex);
                }
                catch (Exception reporting)
                {
                    // Only cancellation may end the loop, not a logger or a fallback that fails while handling a failure.
                    runtime.ReportExtensionFailure(source, reporting);
                }

                connection.Rotate();
                await Task.Delay(_backoff, runtime.Time, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                _backoff = TimeSpan.FromTicks(Math.Min(options.MaxBackoff.Ticks, _backoff.Ticks * 2));
            }
        }
    }

    private void Report(Exception exception)
    {
        if (exception is RpcException or IOException or HttpRequestException or OperationCanceledException)
        {
            // An unreachable or failing member is expected in operation: a warning, no stack trace.
            Log.Unavailable(_logger, source, connection.Current, exception.Message, _backoff);
            runtime.Telemetry.ProviderFailures.Add(1, new KeyValuePair<string, object?>("mesh.source", source),
                new KeyValuePair<string, object?>("mesh.reason", "unavailable"));
        }
        else
        {
            runtime.ReportProviderFailure(source, exception);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Source}: etcd {Endpoint} unavailable ({Reason}); the last good state stays in force, retrying in {Backoff}")]
        public static partial void Unavailable(ILogger logger, string source, string endpoint, string reason, TimeSpan backoff);
    }
}
