using System.Diagnostics;
using Mesh.Routing;
using Mesh.Runtime;

namespace Mesh.Http;

/// <summary>
/// Observes HttpClient's <c>HttpHandlerDiagnosticListener</c>. On the request event it routes calls to mesh
/// services (<c>http://orders/...</c>): picks an endpoint, rewrites <see cref="HttpRequestMessage.RequestUri"/>,
/// stamps the lane and caller headers. On the response and exception events it reports the outcome. Unknown hosts
/// pass through untouched, and any failure of the mesh itself lets the request go on unmeshed (fail open).
/// </summary>
internal sealed class HttpClientObserver : IObserver<KeyValuePair<string, object?>>
{
    public const string ListenerName = "HttpHandlerDiagnosticListener";

    // The payload-only events: subscribing to them, and not to "System.Net.Http.HttpRequestOut", gives the
    // request object without making HttpClient create an Activity per request.
    private const string RequestEvent = "System.Net.Http.Request";
    private const string ResponseEvent = "System.Net.Http.Response";
    private const string ExceptionEvent = "System.Net.Http.Exception";

    private const string SpanName = "mesh.route";

    // The attempt in flight in this async flow. HttpClient raises the request and response events from the same
    // async method, so the value set on request is seen on response and nowhere else; it is how a canceled
    // attempt, whose response event carries no request, is still reported.
    private static readonly AsyncLocal<MeshCall?> CurrentCall = new();

    private readonly PropertyFetcher<HttpRequestMessage> _requestFetcher = new("Request");
    private readonly PropertyFetcher<HttpResponseMessage> _responseFetcher = new("Response");
    private readonly PropertyFetcher<Exception> _exceptionFetcher = new("Exception");
    private readonly PropertyFetcher<HttpRequestMessage> _failedRequestFetcher = new("Request");
    private readonly PropertyFetcher<TaskStatus> _statusFetcher = new("RequestTaskStatus");

    public static ListenerObserver Registration { get; } = new(ListenerName, new HttpClientObserver(), IsEnabled);

    private static bool IsEnabled(string name, object? arg1, object? arg2)
        => name is RequestEvent or ResponseEvent or ExceptionEvent;

    public void OnNext(KeyValuePair<string, object?> value)
    {
        switch (value.Key)
        {
            case RequestEvent:
                OnRequest(value.Value);
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

    private void OnRequest(object? payload)
    {
        if (!_requestFetcher.TryFetch(payload, out var request) || request.RequestUri is not { IsAbsoluteUri: true } uri)
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
            request.Options.TryGetValue(MeshRequestOptions.Attempted, out var attempted);
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
            var call = new MeshCall(runtime, decision.Service!, decision.Route!, endpoint, decision.Lane, uri, runtime.Time.GetTimestamp(), StartSpan(runtime, decision));
            request.RequestUri = new Uri(string.Concat(endpoint.UriPrefix, uri.PathAndQuery), UriKind.Absolute);
            StampHeaders(request, snapshot, decision.Lane);
            request.Options.Set(MeshRequestOptions.Call, call);
            CurrentCall.Value = call;
            MeshRuntime.OnCallStarted(endpoint);
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

    private void OnResponse(object? payload)
    {
        var call = CurrentCall.Value;
        if (_responseFetcher.TryFetch(payload, out var response))
        {
            if (response.RequestMessage is { } request && request.Options.TryGetValue(MeshRequestOptions.Call, out var own))
            {
                call = own;
            }

            call?.Complete(Classify(response), (int)response.StatusCode);
        }
        else if (call is not null && _statusFetcher.TryFetch(payload, out var status) && status == TaskStatus.Canceled)
        {
            call.Complete(OutcomeKind.Canceled, 0);
        }

        CurrentCall.Value = null;
    }

    private void OnException(object? payload)
    {
        var call = _failedRequestFetcher.TryFetch(payload, out var request) && request.Options.TryGetValue(MeshRequestOptions.Call, out var own)
            ? own
            : CurrentCall.Value;
        if (call is null)
        {
            return;
        }

        _exceptionFetcher.TryFetch(payload, out var exception);
        call.Complete(Classify(exception), 0);
    }

    private static OutcomeKind Classify(HttpResponseMessage response)
    {
        if ((int)response.StatusCode >= 500)
        {
            return OutcomeKind.ServerError;
        }

        // gRPC reports failures in an HTTP 200; a trailers-only response carries the status in the headers.
        return response.Headers.NonValidated.TryGetValues("grpc-status", out var grpc) && GrpcStatuses.IsEndpointFailure(grpc.ToString())
            ? OutcomeKind.GrpcFailure
            : OutcomeKind.Success;
    }

    private static OutcomeKind Classify(Exception? exception) => exception switch
    {
        OperationCanceledException { InnerException: TimeoutException } => OutcomeKind.Timeout,
        TimeoutException => OutcomeKind.Timeout,
        OperationCanceledException => OutcomeKind.Canceled,
        // Anything else that ends an attempt without a response is a transport failure of the endpoint.
        _ => OutcomeKind.ConnectFailure,
    };

    private static void ReportListenerFailure(MeshRuntime runtime, Exception exception)
    {
        runtime.Telemetry.ListenerFailures.Add(1, new KeyValuePair<string, object?>("mesh.listener", ListenerName));
        runtime.ReportExtensionFailure(nameof(HttpClientObserver), exception);
    }
}

/// <summary>gRPC status codes that say the endpoint, not the request, is at fault.</summary>
public static class GrpcStatuses
{
    /// <summary>True for UNAVAILABLE (14), INTERNAL (13), UNKNOWN (2), DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8).</summary>
    public static bool IsEndpointFailure(string status) => status is "14" or "13" or "2" or "4" or "8";
}
