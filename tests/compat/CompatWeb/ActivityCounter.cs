#if COMPAT_OTEL
using System.Diagnostics;
using OpenTelemetry;

namespace CompatWeb;

// Counts the activities OpenTelemetry ends, by kind, so a test can see what the app's own tracing recorded.
public sealed class ActivityCounter : BaseProcessor<Activity>
{
    private long _server;
    private long _client;

    public long Server => Interlocked.Read(ref _server);
    public long Client => Interlocked.Read(ref _client);

    public override void OnEnd(Activity data)
    {
        if (data.Kind == ActivityKind.Server) Interlocked.Increment(ref _server);
        else if (data.Kind == ActivityKind.Client) Interlocked.Increment(ref _client);
    }
}
#endif
