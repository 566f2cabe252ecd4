using System.Diagnostics;
using Mesh.Model;
using Mesh.Routing;
using Mesh.Runtime;

namespace Mesh.Http;

/// <summary>One routed attempt: what was picked, when, and whether its outcome was reported.</summary>
public sealed class MeshCall
{
    private int _completed;

    private bool _answered;

    private readonly Activity? _span;

    internal MeshCall(MeshRuntime runtime, MeshService service, CompiledRoute route, Endpoint endpoint, string? lane, Uri originalUri, Uri routedUri, long startTimestamp, Activity? span)
    {
        _span = span;
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
    /// The endpoint answered (response headers) but the attempt's outcome is still to come, as a gRPC status in
    /// trailers: the attempt leaves the endpoint's in-flight count now, as an answered request does, so that a call
    /// the application never finishes holds nothing of the endpoint; <see cref="Complete"/> reports the outcome.
    /// </summary>
    internal void Answered()
    {
        _answered = true;
        MeshRuntime.OnCallAnswered(Endpoint);
    }

    /// <summary>Reports the outcome once; later reports of the same attempt are ignored.</summary>
    public void Complete(OutcomeKind kind, int statusCode)
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return;
        }

        var duration = Runtime.Time.GetElapsedTime(StartTimestamp);
        var outcome = new CallOutcome(Service, Endpoint, Route.Name, kind, statusCode, duration);
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

        Runtime.OnCallCompleted(outcome, _answered);
    }
}
