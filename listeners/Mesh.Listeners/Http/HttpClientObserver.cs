using System.Diagnostics;
using Mesh.Routing;
using Mesh.Runtime;

namespace Mesh.Http;

/// <summary>
/// Observes HttpClient's <c>HttpHandlerDiagnosticListener</c>. Before a request leaves it routes calls to mesh
/// services (<c>http://orders/...</c>): picks an endpoint, rewrites <see cref="HttpRequestMessage.RequestUri"/>,
/// stamps the lane and caller headers. On the response and exception events it reports the outcome, except for a
/// gRPC call whose status is still to come in trailers, which <see cref="GrpcClientObserver"/> reports at the call's
/// end. Unknown hosts pass through untouched, and any failure of the mesh itself lets the request go on unmeshed
/// (fail open).
/// </summary>
internal sealed class HttpClientObserver : IObserver<KeyValuePair<string, object?>>
{
    public const string ListenerName = "HttpHandlerDiagnosticListener";

    // HttpClient asks its listener whether to create an Activity for this request, passing the request, before
    // anything else happens to it. Routing there, and answering "no", costs no Activity and no event payload; the
    // deprecated request event would cost a Guid.NewGuid() per request, a system call on Linux.
    private const string ActivityName = "System.Net.Http.HttpRequestOut";

    // When an Activity is created all the same (an ambient Activity, an ActivitySource listener, another subscriber
    // that asked for it), that question is not put to the mesh; the start event then carries the request instead.
    private const string ActivityStartEvent = "System.Net.Http.HttpRequestOut.Start";

    // Not asked for, but raised when another subscriber asks; routed from like the start event. Whether to raise it
    // is the last question HttpClient puts to its listener before it sends (after the activity question and the
    // start event, before its try block): the routed attempt is launched there, or at the event itself (see
    // MeshCall.Launch).
    private const string RequestEvent = "System.Net.Http.Request";
    private const string ResponseEvent = "System.Net.Http.Response";
    private const string ExceptionEvent = "System.Net.Http.Exception";

    // The attempt routed on this thread and not launched yet. HttpClient asks the activity question (or raises the
    // start event), then the request-event question, synchronously on one thread before its first await: the
    // attempt passes from one to the other here. Not an async-local value: one set in the send would make every
    // later await of it carry an execution context, about 1 µs per call. The response and exception events find the
    // attempt on the request instead (MeshRequestOptions.Call); a canceled send, whose response event carries no
    // request, is ended by the mesh's handlers (factory clients) or, for a plain HttpClient, once the request is
    // collected (see MeshCall).
    [ThreadStatic]
    private static MeshCall? t_pending;

    private static readonly HttpClientObserver Instance = new();

    // One fetcher per payload type: a fetcher caches the accessor of the last type it saw.
    private readonly PropertyFetcher<HttpRequestMessage> _startRequestFetcher = new("Request");
    private readonly PropertyFetcher<HttpRequestMessage> _requestEventFetcher = new("Request");
    private readonly PropertyFetcher<HttpRequestMessage> _exceptionRequestFetcher = new("Request");
    private readonly PropertyFetcher<HttpResponseMessage> _responseFetcher = new("Response");

    public static ListenerObserver Registration { get; } = new(ListenerName, Instance, Instance.IsEnabled);

    // Throws only the deliberate MeshRoutingException, which HttpClient lets through to the caller before the
    // request leaves.
    private bool IsEnabled(string name, object? arg1, object? arg2)
    {
        if (arg1 is HttpRequestMessage request && name == ActivityName)
        {
            // Asked first for every send without an activity: whatever an earlier send left here is not this one's.
            t_pending = null;
            t_pending = Route(request);
            return false;
        }

        if (name == RequestEvent)
        {
            LaunchPending();
            return false;
        }

        return name is ActivityStartEvent or ResponseEvent or ExceptionEvent;
    }

    public void OnNext(KeyValuePair<string, object?> value)
    {
        switch (value.Key)
        {
            case ActivityStartEvent:
                if (_startRequestFetcher.TryFetch(value.Value, out var started))
                {
                    RouteFromEvent(started);
                }

                break;
            case RequestEvent:
                if (_requestEventFetcher.TryFetch(value.Value, out var request))
                {
                    RouteFromEvent(request);
                }

                // Routed just now, or raised because a subscriber ahead of the mesh said yes and the mesh was not
                // asked: either way the last point before the send.
                LaunchPending();
                break;
            case ResponseEvent:
                OnResponse(value.Value);
                break;
            case ExceptionEvent:
                OnException(value.Value);
                break;
        }
    }

    public void OnError(Exception error)
    {
    }

    public void OnCompleted()
    {
    }

    // An event that carries the request: the start event when HttpClient has an activity (the question was not asked),
    // or the request event another subscriber asked for. The attempt pending on this thread stays when the event is
    // about the request it was routed for (asked about again), and is dropped otherwise.
    private static void RouteFromEvent(HttpRequestMessage request)
    {
        if (Route(request) is { } call)
        {
            t_pending = call;
        }
        else if (t_pending is { } pending && !ReferenceEquals(pending.RoutedUri, request.RequestUri))
        {
            t_pending = null;
        }
    }

    // The attempt routed, or null when the request is not the mesh's to route (or was routed already).
    private static MeshCall? Route(HttpRequestMessage request)
    {
        if (request.RequestUri is not { IsAbsoluteUri: true } uri || !MeshAgent.MayRoute(uri.Host))
        {
            return null;
        }

        // Asked about again for the same attempt (the start event after the question, or a third party's request
        // event): the request already goes to the endpoint picked.
        if (t_pending is { } pending && ReferenceEquals(pending.RoutedUri, uri))
        {
            return null;
        }

        var runtime = MeshAgent.Resolve(request);
        if (runtime is null)
        {
            return null;
        }

        RouteDecision decision;
        MeshSnapshot snapshot;
        CancellationToken? callerCancellation;
        try
        {
            snapshot = runtime.SnapshotFor(uri.Host);
            if (!snapshot.Enabled || !snapshot.TryGetService(uri.Host, out _))
            {
                return null;
            }

            var lane = request.Headers.NonValidated.TryGetValues(snapshot.LaneHeader, out var laneValues) && laneValues.Count > 0
                ? laneValues.ToString()
                : MeshContext.Current?.Lane;
            var options = request.Options;
            options.TryGetValue(MeshRequestOptions.Attempted, out var attempted);
            callerCancellation = options.TryGetValue(MeshRequestOptions.CallerCancellation, out var token) ? token : null;
            var view = new HttpRequestView(request, uri);
            decision = runtime.Route(uri.Host, ref view, lane, attempted);
        }
        catch (Exception ex)
        {
            ReportListenerFailure(runtime, ex);
            return null;
        }

        if (decision.Status is RouteStatus.NoEndpoint or RouteStatus.LaneRejected)
        {
            // A deliberate rejection: the one exception the mesh throws into the application, raised before the
            // request leaves so that no connection is attempted to a name that cannot resolve.
            var rejection = new MeshRoutingException(decision.Service!.Name, decision.Status, decision.Reason!);
            FailHttpClientActivity(runtime, rejection);
            throw rejection;
        }

        if (decision.Status != RouteStatus.Routed)
        {
            return null;
        }

        MeshCall? call = null;
        try
        {
            var endpoint = decision.Endpoint!;
            var routed = endpoint.RequestUri(uri.PathAndQuery);
            call = new MeshCall(runtime, decision.Service!, decision.Route!, endpoint, decision.Lane, uri, routed, runtime.Time.GetTimestamp())
            {
                CallerCancellation = callerCancellation,
            };
            request.RequestUri = routed;
            StampHeaders(request, snapshot, decision.Lane);
            request.Options.Set(MeshRequestOptions.Call, call);
            runtime.OnPicked(decision, request);
            return call;
        }
        catch (Exception ex)
        {
            // The request goes on as far as it got, untracked: the attempt is dropped without being counted.
            call?.Abandon();
            ReportListenerFailure(runtime, ex);
            return null;
        }
    }

    // Launched once the request is about to go: from here on, HttpClient's try block ends the send with the
    // response or exception event, which completes the attempt (a cancellation aside: see t_pending). A throw between
    // routing and this point (another subscriber's activity question, start-event handler, or request-event question
    // asked ahead of the mesh; an activity listener) ends the send before anything was counted. A throw after this
    // point and before the try (a subscriber asked after the mesh that throws on the request-event question, or in
    // its handler of that event; a DistributedContextPropagator that throws as HttpClient injects headers), or in
    // HttpClient's finally ahead of the response event (a stop-event handler; the response-event question or handler
    // of a subscriber ahead of the mesh), leaves the attempt counted in flight until the mesh's handlers see the
    // exception go by (factory clients: MeshCall.EndOpen) or, for a plain new HttpClient(), until its request is
    // collected (MeshCall's finalizer).
    private static void LaunchPending()
    {
        if (t_pending is not { } call)
        {
            return;
        }

        t_pending = null;

        try
        {
            call.Launch();
        }
        catch (Exception ex)
        {
            ReportListenerFailure(call.Runtime, ex);
        }
    }

    // HttpClient starts its activity before the start and request events, and stops it in the finally of a try block
    // that a throw from these events never enters: the rejection ends it the way that finally would (error.type and
    // status, as for any failed send), so that its span is exported and it is no longer current. Routed from
    // HttpClient's question there is none to end: HttpClient asks only when it has no activity and none is current.
    // Another current activity (a subscriber's own) is not HttpClient's, and is left alone.
    private static void FailHttpClientActivity(MeshRuntime runtime, MeshRoutingException rejection)
    {
        if (Activity.Current is not { OperationName: ActivityName, IsStopped: false } activity)
        {
            return;
        }

        try
        {
            activity.SetTag("error.type", rejection.GetType().FullName);
            activity.SetStatus(ActivityStatusCode.Error, rejection.Message);
            activity.Stop();
        }
        catch (Exception ex)
        {
            // A tracing listener that throws as the activity stops must not replace the rejection the app is owed.
            ReportListenerFailure(runtime, ex);
        }
    }

    private static void StampHeaders(HttpRequestMessage request, MeshSnapshot snapshot, string? lane)
    {
        var headers = request.Headers;
        if (lane is not null && !headers.NonValidated.Contains(snapshot.LaneHeader))
        {
            headers.TryAddWithoutValidation(snapshot.LaneHeader, lane);
        }

        if (snapshot.ServiceName is { } caller && !headers.NonValidated.Contains(snapshot.CallerHeader))
        {
            headers.TryAddWithoutValidation(snapshot.CallerHeader, caller);
            if (snapshot.CallerSignature is { } signature)
            {
                headers.TryAddWithoutValidation(snapshot.CallerSignatureHeader, signature.Sign(caller));
            }
        }

        // HttpClient propagates baggage itself only when it creates an Activity, which the mesh avoids.
        if (MeshContext.Current?.Baggage is { } baggage && !headers.NonValidated.Contains("baggage"))
        {
            headers.TryAddWithoutValidation("baggage", baggage);
        }
    }

    // Reporting runs the runtime's observers and metric listeners; none of them may fail the application's call.
    // A send that ended without a response (canceled, failed) raises this event with no response and no request;
    // a failure also raises the exception event, which carries the request, and a cancellation is ended elsewhere
    // (see t_pending).
    private void OnResponse(object? payload)
    {
        if (!_responseFetcher.TryFetch(payload, out var response) || !TryGetCall(response.RequestMessage, out var call))
        {
            return;
        }

        try
        {
            Complete(call, response);
        }
        catch (Exception ex)
        {
            ReportListenerFailure(call.Runtime, ex);
        }
    }

    private void OnException(object? payload)
    {
        if (!_exceptionRequestFetcher.TryFetch(payload, out var request) || !TryGetCall(request, out var call))
        {
            return;
        }

        try
        {
            // HttpClient raises this event for failures other than cancellation (which comes as a canceled
            // response event): whatever ends an attempt without a response is a transport failure of the endpoint.
            call.Complete(OutcomeKind.ConnectFailure, 0);
        }
        catch (Exception ex)
        {
            ReportListenerFailure(call.Runtime, ex);
        }
    }

    private static bool TryGetCall(HttpRequestMessage? request, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MeshCall? call)
    {
        call = null;
        return request is not null && request.Options.TryGetValue(MeshRequestOptions.Call, out call);
    }

    private static void Complete(MeshCall call, HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        if (status >= 500)
        {
            call.Complete(OutcomeKind.ServerError, status);
        }
        else if (response.Headers.NonValidated.TryGetValues(GrpcStatuses.Header, out var grpc))
        {
            // gRPC reports failures in an HTTP 200; a trailers-only response carries the status in the headers.
            call.Complete(GrpcStatuses.IsEndpointFailure(grpc.ToString()) ? OutcomeKind.GrpcFailure : OutcomeKind.Success, status);
        }
        else if (!GrpcClientObserver.TryDefer(call, response))
        {
            call.Complete(OutcomeKind.Success, status);
        }
    }

    private static void ReportListenerFailure(MeshRuntime runtime, Exception exception)
        => ListenerFailure.Report(runtime, ListenerName, nameof(HttpClientObserver), exception);
}

/// <summary>gRPC status codes that say the endpoint, not the request, is at fault.</summary>
public static class GrpcStatuses
{
    /// <summary>The header, or trailer, that carries a gRPC call's status.</summary>
    internal const string Header = "grpc-status";

    /// <summary>True for UNAVAILABLE (14), INTERNAL (13), UNKNOWN (2), DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8).</summary>
    public static bool IsEndpointFailure(string status) => status is "14" or "13" or "2" or "4" or "8";
}
