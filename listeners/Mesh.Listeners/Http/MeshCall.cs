using System.Diagnostics;
using Mesh.Model;
using Mesh.Routing;
using Mesh.Runtime;

namespace Mesh.Http;

/// <summary>One routed attempt: what was picked, when, and whether its outcome was reported.</summary>
public sealed class MeshCall
{
    private const string SpanName = "mesh.route";

    private int _completed;

    // Set by Launch, on the thread that routes, before the request is handed on; read when the attempt ends, which
    // the send's own continuations order after it.
    private bool _launched;

    // Set when the endpoint answered and the outcome is left to the end of a gRPC call (Answered).
    private bool _answered;
    private Activity? _span;

    internal MeshCall(MeshRuntime runtime, MeshService service, CompiledRoute route, Endpoint endpoint, string? lane, Uri originalUri, Uri routedUri, long startTimestamp)
    {
        Runtime = runtime;
        Service = service;
        Route = route;
        Endpoint = endpoint;
        Lane = lane;
        OriginalUri = originalUri;
        RoutedUri = routedUri;
        StartTimestamp = startTimestamp;
    }

    /// <summary>The runtime that routed it.</summary>
    public MeshRuntime Runtime { get; }

    /// <summary>The service called.</summary>
    public MeshService Service { get; }

    /// <summary>The route that matched.</summary>
    public CompiledRoute Route { get; }

    /// <summary>The endpoint picked.</summary>
    public Endpoint Endpoint { get; }

    /// <summary>The lane of the call.</summary>
    public string? Lane { get; }

    /// <summary>The address the application asked for (<c>http://orders/...</c>).</summary>
    public Uri OriginalUri { get; }

    /// <summary>The endpoint's address the request was rewritten to.</summary>
    public Uri RoutedUri { get; }

    /// <summary>The application's own cancellation, when a timeout handler around the attempt told it.</summary>
    internal CancellationToken? CallerCancellation { get; init; }

    /// <summary>
    /// How a canceled attempt counts: a timeout when the application had not canceled its call (a mesh timeout ended
    /// the attempt), else a cancellation, which says nothing about the endpoint.
    /// </summary>
    internal OutcomeKind CanceledOutcome
        => CallerCancellation is { IsCancellationRequested: false } ? OutcomeKind.Timeout : OutcomeKind.Canceled;

    /// <summary>When the attempt started, as <see cref="TimeProvider.GetTimestamp"/>.</summary>
    public long StartTimestamp { get; }

    /// <summary>
    /// Counts the attempt in flight on its endpoint and starts its span, once. The listener calls this at the last
    /// point it sees before HttpClient sends, not when it routes: what runs in between (another diagnostic
    /// subscriber) may throw, and such a send ends without the events that would complete the attempt.
    /// </summary>
    internal void Launch()
    {
        if (_launched)
        {
            return;
        }

        _launched = true;
        MeshRuntime.OnCallStarted(Endpoint);
        _span = StartSpan();
    }

    /// <summary>
    /// The endpoint answered (response headers) but the attempt's outcome is still to come, as a gRPC status in
    /// trailers: the attempt leaves the endpoint's in-flight count now, as an answered request does, so that a call
    /// the application never finishes holds nothing of the endpoint; <see cref="Complete"/> reports the outcome.
    /// </summary>
    internal void Answered()
    {
        _answered = true;
        MeshRuntime.OnCallLeftInFlight(Endpoint);
    }

    /// <summary>
    /// The backstop of an attempt that no event ends: HttpClient's response event for a canceled send carries no
    /// request to find it by, and a send another diagnostic subscriber breaks raises none. Factory clients' handlers
    /// end such attempts as the exception passes them; for a plain HttpClient nothing of the mesh's sees it, and the
    /// attempt leaves its endpoint's in-flight count once its request has been collected. No outcome is reported
    /// then: when it ended, and how, is not known. Every attempt ended otherwise is taken off the finalization queue
    /// at once.
    /// </summary>
    ~MeshCall()
    {
        // An answered gRPC call already left the in-flight count; its outcome is its pending report's to give.
        if (_answered || Interlocked.Exchange(ref _completed, 1) != 0 || !_launched)
        {
            return;
        }

        try
        {
            MeshRuntime.OnCallLeftInFlight(Endpoint);
        }
        catch (Exception ex)
        {
            ListenerFailure.Report(Runtime, HttpClientObserver.ListenerName, nameof(MeshCall), ex);
        }
    }

    /// <summary>Reports the outcome once; later reports of the same attempt are ignored.</summary>
    public void Complete(OutcomeKind kind, int statusCode)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        GC.SuppressFinalize(this);

        // HttpClient reports an outcome only after the point where the listener launches the attempt. Were a runtime
        // ever to skip that point, launching here keeps the endpoint's in-flight count from going below zero.
        Launch();
        var duration = Runtime.Time.GetElapsedTime(StartTimestamp);
        var outcome = new CallOutcome(Service, Endpoint, Route.Name, kind, statusCode, duration);

        // The endpoint's accounting before the span: a tracing listener that throws as the span stops must not leave
        // the attempt counted in flight.
        Runtime.OnCallCompleted(outcome, _answered);
        if (_span is not null)
        {
            _span.SetTag("mesh.outcome", MeshRuntime.OutcomeName(kind));
            if (statusCode != 0)
            {
                _span.SetTag("http.response.status_code", statusCode);
            }

            _span.SetStatus(outcome.IsFailure ? ActivityStatusCode.Error : ActivityStatusCode.Ok);

            // Stopping an activity makes the one current at its start current again. The span was never current, and
            // the attempt may end in another flow than it started (a gRPC call ends in grpc-dotnet's), whose current
            // activity must stay what it is for the code that runs after the mesh there.
            var current = Activity.Current;
            _span.Stop();
            Activity.Current = current;
        }
    }

    /// <summary>
    /// Ends an attempt whose outcome will never be reported: the exception that ended its send surfaced without
    /// HttpClient's response or exception event (another diagnostic subscriber threw around the send). The attempt
    /// leaves its endpoint's in-flight count and its span ends in error; it counts as no request, success or
    /// failure, since nothing was learned about the endpoint. Does nothing to an attempt already ended.
    /// </summary>
    public void Abandon()
    {
        // An answered call already left the in-flight count, and its outcome is still to come from the gRPC call's end.
        if (_answered || Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        GC.SuppressFinalize(this);
        if (!_launched)
        {
            // Never counted, never sent: nothing to take back.
            return;
        }

        MeshRuntime.OnCallLeftInFlight(Endpoint);
        if (_span is not null)
        {
            _span.SetStatus(ActivityStatusCode.Error, "abandoned: the attempt's outcome was never reported");
            var current = Activity.Current;
            _span.Stop();
            Activity.Current = current;
        }
    }

    /// <summary>
    /// Ends the attempt of <paramref name="request"/> if the listener routed it and it has not ended: for a handler
    /// around the send, as the send's <paramref name="exception"/> goes by. A cancellation is reported as such (a
    /// timeout when the application's own call was not canceled: see <see cref="CanceledOutcome"/>), since
    /// HttpClient's response event for a canceled send carries no request to find the attempt by; any other
    /// exception that gets here without HttpClient's events having ended the attempt came from another diagnostic
    /// subscriber, and the attempt is abandoned. Never throws, so that exception goes on unchanged.
    /// </summary>
    public static void EndOpen(HttpRequestMessage request, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!request.Options.TryGetValue(MeshRequestOptions.Call, out var call))
        {
            return;
        }

        try
        {
            if (exception is OperationCanceledException)
            {
                call.Complete(call.CanceledOutcome, 0);
            }
            else
            {
                call.Abandon();
            }
        }
        catch (Exception ex)
        {
            // An observer or tracing listener that throws; the in-flight count was taken back before.
            call.Runtime.ReportExtensionFailure(nameof(MeshCall), ex);
        }
    }

    // A span only when someone listens to the Mesh source, so tracing costs nothing when it is off. It describes the
    // routing of this attempt and is not made current: HttpClient created its own activity (if any) before the
    // attempt was launched, and the mesh must not change which activity the rest of the send runs under.
    private Activity? StartSpan()
    {
        var source = Runtime.Telemetry.ActivitySource;
        if (!source.HasListeners())
        {
            return null;
        }

        var span = source.CreateActivity(SpanName, ActivityKind.Internal);
        if (span is null)
        {
            return null;
        }

        span.DisplayName = Service.Name;
        span.SetTag("mesh.service", Service.Name);
        span.SetTag("mesh.endpoint", Endpoint.Id);
        span.SetTag("mesh.route", Route.Name);
        span.SetTag("mesh.lane", Lane);
        var current = Activity.Current;
        span.Start();
        Activity.Current = current;
        return span;
    }
}
