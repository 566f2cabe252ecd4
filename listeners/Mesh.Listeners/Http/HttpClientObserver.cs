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

    // Not asked for, but raised when another subscriber asks; routed from like the start event.
    private const string RequestEvent = "System.Net.Http.Request";
    private const string ResponseEvent = "System.Net.Http.Response";
    private const string ExceptionEvent = "System.Net.Http.Exception";

    private const string SpanName = "mesh.route";

    // The attempt in flight in this async flow. HttpClient routes (asks) and raises the response event from the same
    // async method, so the value set when routing is seen on response and nowhere else; it is how a canceled
    // attempt, whose response event carries no request, is still reported, and how calls the mesh did not route
    // are told apart without touching their requests.
    private static readonly AsyncLocal<MeshCall?> CurrentCall = new();

    private static readonly HttpClientObserver Instance = new();

    // One fetcher per payload type: a fetcher caches the accessor of the last type it saw.
    private readonly PropertyFetcher<HttpRequestMessage> _startRequestFetcher = new("Request");
    private readonly PropertyFetcher<HttpRequestMessage> _requestEventFetcher = new("Request");
    private readonly PropertyFetcher<HttpResponseMessage> _responseFetcher = new("Response");
    private readonly PropertyFetcher<TaskStatus> _statusFetcher = new("RequestTaskStatus");

    public static ListenerObserver Registration { get; } = new(ListenerName, Instance, Instance.IsEnabled);

    // Throws only the deliberate MeshRoutingException, which HttpClient lets through to the caller before the
    // request leaves.
    private bool IsEnabled(string name, object? arg1, object? arg2)
    {
        if (arg1 is HttpRequestMessage request && name == ActivityName)
        {
            Route(request);
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
                    Route(started);
                }

                break;
            case RequestEvent:
                if (_requestEventFetcher.TryFetch(value.Value, out var request))
                {
                    Route(request);
                }

                break;
            case ResponseEvent:
                OnResponse(value.Value);
                break;
            case ExceptionEvent:
                OnException();
                break;
        }
    }

    public void OnError(Exception error)
    {
    }

    public void OnCompleted()
    {
    }

    private static void Route(HttpRequestMessage request)
    {
        if (request.RequestUri is not { IsAbsoluteUri: true } uri || !MeshAgent.MayRoute(uri.Host))
        {
            return;
        }

        // Asked about again for the same attempt (the start event after the question, or a third party's request
        // event): the request already goes to the endpoint picked.
        if (CurrentCall.Value is { } current && ReferenceEquals(current.RoutedUri, uri))
        {
            return;
        }

        var runtime = MeshAgent.Resolve(request);
        if (runtime is null)
        {
            return;
        }

        RouteDecision decision;
        MeshSnapshot snapshot;
        CancellationToken? callerCancellation;
        try
        {
            snapshot = runtime.Snapshot;
            if (!snapshot.Enabled || !snapshot.TryGetService(uri.Host, out _))
            {
                return;
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
            return;
        }

        if (decision.Status is RouteStatus.NoEndpoint or RouteStatus.LaneRejected)
        {
            // A deliberate rejection: the one exception the mesh throws into the application, raised before the
            // request leaves so that no connection is attempted to a name that cannot resolve.
            throw new MeshRoutingException(decision.Service!.Name, decision.Status, decision.Reason!);
        }

        if (decision.Status != RouteStatus.Routed)
        {
            return;
        }

        try
        {
            var endpoint = decision.Endpoint!;
            var routed = endpoint.RequestUri(uri.PathAndQuery);
            var call = new MeshCall(runtime, decision.Service!, decision.Route!, endpoint, decision.Lane, uri, routed, runtime.Time.GetTimestamp(), StartSpan(runtime, decision))
            {
                CallerCancellation = callerCancellation,
            };
            request.RequestUri = routed;
            StampHeaders(request, snapshot, decision.Lane);
            request.Options.Set(MeshRequestOptions.Call, call);
            CurrentCall.Value = call;
            MeshRuntime.OnCallStarted(endpoint);
            runtime.OnPicked(decision, request);
        }
        catch (Exception ex)
        {
            ReportListenerFailure(runtime, ex);
        }
    }

    // A span only when someone listens to the Mesh source, so tracing costs nothing when it is off. It describes the
    // routing of this attempt and is not made current: HttpClient created its own activity (if any) before this
    // event, and the mesh must not change which activity the rest of the send runs under.
    private static Activity? StartSpan(MeshRuntime runtime, RouteDecision decision)
    {
        var source = runtime.Telemetry.ActivitySource;
        if (!source.HasListeners())
        {
            return null;
        }

        var span = source.CreateActivity(SpanName, ActivityKind.Internal);
        if (span is null)
        {
            return null;
        }

        span.DisplayName = decision.Service!.Name;
        span.SetTag("mesh.service", decision.Service.Name);
        span.SetTag("mesh.endpoint", decision.Endpoint!.Id);
        span.SetTag("mesh.route", decision.Route!.Name);
        span.SetTag("mesh.lane", decision.Lane);
        var current = Activity.Current;
        span.Start();
        Activity.Current = current;
        return span;
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
    private void OnResponse(object? payload)
    {
        var call = CurrentCall.Value;
        if (call is null)
        {
            return;
        }

        CurrentCall.Value = null;
        try
        {
            if (_responseFetcher.TryFetch(payload, out var response))
            {
                Complete(call, response);
            }
            else if (_statusFetcher.TryFetch(payload, out var status) && status == TaskStatus.Canceled)
            {
                call.Complete(call.CanceledOutcome, 0);
            }
        }
        catch (Exception ex)
        {
            ReportListenerFailure(call.Runtime, ex);
        }
    }

    private static void OnException()
    {
        var call = CurrentCall.Value;
        if (call is null)
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
