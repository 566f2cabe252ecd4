using Mesh.Configuration;
using Mesh.LoadBalancing;
using Mesh.Model;
using Mesh.Routing;
using Mesh.Runtime;

namespace Mesh.Cli;

/// <summary>
/// Dry-runs one request through the real router (<see cref="MeshSnapshot.Route"/>) on a runtime that applied the
/// given document, and gathers why: every route tried in order, the destination chosen, the lane, the candidates.
/// </summary>
internal static class Explainer
{
    public static Explanation Explain(MeshDocument document, string service, ExplainRequest request, string? lane)
    {
        using var runtime = new MeshRuntime();
        var errors = runtime.Apply(document, "meshctl explain");
        if (errors.Count > 0)
        {
            return new Explanation(service, "Invalid", null, [], null, lane, null, [], null, errors.Select(e => e.ToString()).ToList());
        }

        var snapshot = runtime.Snapshot;
        // As the HttpClient listener does: a lane header on the request outranks the lane of the context it runs in.
        if (request.TryGetHeader(snapshot.LaneHeader, out var laneHeader))
        {
            lane = laneHeader.ToString();
        }

        if (!snapshot.TryGetService(service, out var meshService))
        {
            return new Explanation(service, nameof(RouteStatus.NotMeshed), null, [], null, lane, null, [],
                $"'{service}' is not a mesh service: the call would pass through untouched", []);
        }

        var routes = new List<RouteTrace>();
        var matchedSoFar = false;
        foreach (var candidate in meshService.Routes)
        {
            var matches = !matchedSoFar && candidate.Matcher.Matches(ref request, lane);
            routes.Add(new RouteTrace(candidate.Name, candidate.Matcher.ToString(), matchedSoFar ? "not tried" : matches ? "matched" : "no match"));
            matchedSoFar |= matches;
        }

        var decision = runtime.Route(service, ref request, lane);
        var route = decision.Route ?? meshService.DefaultRoute;
        var destination = route.Destinations.FirstOrDefault(d => CandidatesOf(d, lane).Contains(decision.Endpoint!)) ?? route.Destinations[0];
        var candidates = CandidatesOf(destination, lane)
            .Select(e => new CandidateTrace(e.Id, e.UriPrefix, e.Weight, e.Lane, e.Zone, e.State.IsEjected(runtime.Time.GetTimestamp()), e == decision.Endpoint))
            .ToList();
        var destinationText = route.Destinations.Length == 1
            ? destination.Describe()
            : $"{destination.Describe()} (weight {destination.Weight} of {route.Destinations.Sum(d => d.Weight)}, picked at random by weight)";
        return new Explanation(service, decision.Status.ToString(), route.Name, routes, destinationText, decision.Lane,
            decision.Endpoint is { } endpoint ? new CandidateTrace(endpoint.Id, endpoint.UriPrefix, endpoint.Weight, endpoint.Lane, endpoint.Zone, false, true) : null,
            candidates, decision.Reason ?? $"balancer '{meshService.Policy.LoadBalancer?.Kind ?? "roundRobin"}' picked among {candidates.Count} candidate(s)", []);
    }

    // The candidate set the router uses for a destination and lane: an explicit lane subset, else the request's
    // lane, else the base lane.
    private static Endpoint[] CandidatesOf(CompiledDestination destination, string? lane)
    {
        EndpointPicker? picker = destination.ExplicitPicker
            ?? (lane is not null && destination.LanePickers.TryGetValue(lane, out var lanePicker) ? lanePicker : destination.BasePicker);
        return picker?.Endpoints ?? [];
    }
}

/// <summary>The outcome of <c>meshctl explain</c>, also its <c>--json</c> shape.</summary>
internal sealed record Explanation(string Service, string Status, string? Route, List<RouteTrace> Routes, string? Destination, string? Lane,
    CandidateTrace? Endpoint, List<CandidateTrace> Candidates, string? Reason, List<string> Errors);

/// <summary>One route as it was tried.</summary>
internal sealed record RouteTrace(string Name, string Match, string Result);

/// <summary>One endpoint of the chosen destination.</summary>
internal sealed record CandidateTrace(string Id, string Address, int Weight, string? Lane, string? Zone, bool Ejected, bool Picked);
