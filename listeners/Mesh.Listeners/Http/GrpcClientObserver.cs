using System.Diagnostics;
using Mesh.Runtime;

namespace Mesh.Http;

/// <summary>
/// Observes grpc-dotnet's client listener to report the outcome of routed gRPC calls whose status comes in trailers.
/// HttpClient's response event, where <see cref="HttpClientObserver"/> reports outcomes, comes with the response
/// headers; a gRPC call that goes on past them (a unary call answered with headers and then UNAVAILABLE, a stream
/// failing midway) has its status in the trailers, which the client reads at the end of the response. grpc-dotnet
/// ends every call it announced with a stop event carrying the request, whatever ends it: the response read to its
/// end, the call disposed or canceled, its deadline, its channel disposed. That is where such an outcome is reported.
/// </summary>
internal sealed class GrpcClientObserver : IObserver<KeyValuePair<string, object?>>
{
    public const string ListenerName = "Grpc.Net.Client";

    // grpc-dotnet asks its listener, with the request, whether to create an Activity for a call and write its start
    // and stop events. Saying yes costs that call an Activity (and HttpClient, seeing it current, one more and a
    // traceparent header), so only calls to mesh services are asked for.
    private const string ActivityName = "Grpc.Net.Client.GrpcOut";
    private const string StartEvent = ActivityName + ".Start";
    private const string StopEvent = ActivityName + ".Stop";

    // The status grpc-dotnet resolved for the call, a tag of its activity, current while the stop event is written.
    private const string StatusTag = "grpc.status_code";

    // Set at the start event: a stop event will follow for this request. Another subscriber may have asked for the
    // events, so the start event, which every subscriber receives, is what tells.
    private static readonly HttpRequestOptionsKey<bool> Announced = new("Mesh.GrpcAnnounced");

    private static readonly HttpRequestOptionsKey<PendingOutcome> Pending = new("Mesh.GrpcPendingOutcome");

    private static readonly GrpcClientObserver Instance = new();

    // One fetcher per payload type: a fetcher caches the accessor of the last type it saw.
    private readonly PropertyFetcher<HttpRequestMessage> _startRequestFetcher = new("Request");
    private readonly PropertyFetcher<HttpRequestMessage> _stopRequestFetcher = new("Request");
    private readonly PropertyFetcher<HttpResponseMessage> _stopResponseFetcher = new("Response");

    public static ListenerObserver Registration { get; } = new(ListenerName, Instance, IsEnabled);

    /// <summary>
    /// Leaves the outcome of <paramref name="call"/> to the call's stop event when <paramref name="response"/>, whose
    /// headers carry no gRPC status, answers a call grpc-dotnet announced: the status is still to come. The call
    /// leaves its endpoint's in-flight count now.
    /// </summary>
    internal static bool TryDefer(MeshCall call, HttpResponseMessage response)
    {
        // gRPC runs on HTTP/2 or later, so an HTTP/1.1 response is told apart without a lookup. (gRPC-Web over
        // HTTP/1.1 is therefore reported at its headers, as before.)
        if (response.Version.Major < 2 || response.RequestMessage is not { } request || !request.Options.TryGetValue(Announced, out _))
        {
            return false;
        }

        request.Options.Set(Pending, new PendingOutcome(call, (int)response.StatusCode));
        call.Answered();
        return true;
    }

    public void OnNext(KeyValuePair<string, object?> value)
    {
        switch (value.Key)
        {
            case StartEvent:
                if (_startRequestFetcher.TryFetch(value.Value, out var started) && MayRoute(started))
                {
                    started.Options.Set(Announced, true);
                }

                break;
            case StopEvent:
                if (!_stopRequestFetcher.TryFetch(value.Value, out var stopped))
                {
                    break;
                }

                if (stopped.Options.TryGetValue(Pending, out var pending))
                {
                    _stopResponseFetcher.TryFetch(value.Value, out var response);
                    pending.Report(Classify(response));
                }
                else if (stopped.Options.TryGetValue(MeshRequestOptions.Call, out var call))
                {
                    // Ended before any response (canceled, or past its deadline): HttpClient's event for that carries
                    // no request, so the call is ended here, at once, rather than when its request is collected.
                    // Ended already (the usual case), it ignores this.
                    EndCanceled(call);
                }

                break;
        }
    }

    public void OnError(Exception error)
    {
    }

    public void OnCompleted()
    {
    }

    private static void EndCanceled(MeshCall call)
    {
        try
        {
            call.Complete(OutcomeKind.Canceled, 0);
        }
        catch (Exception ex)
        {
            ListenerFailure.Report(call.Runtime, ListenerName, nameof(GrpcClientObserver), ex);
        }
    }

    private static bool IsEnabled(string name, object? arg1, object? arg2)
        => name == ActivityName ? arg1 is HttpRequestMessage request && MayRoute(request) : name is StartEvent or StopEvent;

    // Calls to hosts no runtime knows (etcd's own gRPC, other services) are not touched.
    private static bool MayRoute(HttpRequestMessage request)
        => request.RequestUri is { IsAbsoluteUri: true } uri && MeshAgent.MayRoute(uri.Host);

    private static OutcomeKind Classify(HttpResponseMessage? response)
    {
        // The status the endpoint sent, in the trailers: there once the client read the response to its end.
        if (response is not null && response.TrailingHeaders.NonValidated.TryGetValues(GrpcStatuses.Header, out var sent))
        {
            return GrpcStatuses.IsEndpointFailure(sent.ToString()) ? OutcomeKind.GrpcFailure : OutcomeKind.Success;
        }

        // No trailers: the call ended otherwise, and the status the client resolved says how. A broken stream (reset,
        // lost connection) is the endpoint's failure; a cancellation, or the app's own deadline (DEADLINE_EXCEEDED, 4),
        // says nothing about the endpoint, as when either ends a call before its response.
        var resolved = Activity.Current is { OperationName: ActivityName } activity ? activity.GetTagItem(StatusTag) as string : null;
        return resolved is not (null or "4") && GrpcStatuses.IsEndpointFailure(resolved)
            ? OutcomeKind.GrpcFailure
            : OutcomeKind.Canceled;
    }

    /// <summary>
    /// The outcome of a routed gRPC call, reported at the call's end. A call the application abandons, neither read
    /// to its end nor disposed, ends only with its channel; when its objects are collected first, the finalizer
    /// reports it, so that every routed attempt is reported once.
    /// </summary>
    private sealed class PendingOutcome(MeshCall call, int statusCode)
    {
        // Abandoned: canceled, which says nothing about the endpoint.
        ~PendingOutcome() => Report(OutcomeKind.Canceled);

        public void Report(OutcomeKind kind)
        {
            GC.SuppressFinalize(this);
            try
            {
                call.Complete(kind, statusCode);
            }
            catch (Exception ex)
            {
                ListenerFailure.Report(call.Runtime, ListenerName, nameof(GrpcClientObserver), ex);
            }
        }
    }
}
