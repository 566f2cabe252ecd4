using System.Collections.Frozen;
using Mesh.Configuration;
using Mesh.LoadBalancing;
using Mesh.Model;
using Mesh.Runtime;

namespace Mesh.Routing;

/// <summary>
/// Turns a validated <see cref="MeshDocument"/> into a <see cref="MeshSnapshot"/>: precomputed matchers, subset
/// membership, lane splits and balancer pickers, so that routing does no parsing or searching per request.
/// </summary>
/// <remarks>
/// Compiling is incremental: a service whose document is the same object as in the last compiled snapshot (and whose
/// mesh-wide inputs did not change) is carried over as it was, so a change to one endpoint costs that service's
/// compile, not the mesh's. Providers hand over a new <see cref="ServiceDocument"/> for every service they changed
/// and never change one they handed over. Endpoint runtime state is kept across compilations for endpoints that stay.
/// </remarks>
public sealed class SnapshotCompiler
{
    private const string DefaultRouteName = "default";

    // Most endpoints have no tags and most destinations no subset or lanes: one shared empty map each, since freezing
    // even an empty map allocates, and a thousand-service compile made tens of thousands of them.
    private static readonly FrozenDictionary<string, string> NoTags = FrozenDictionary.ToFrozenDictionary<string, string>([], StringComparer.Ordinal);
    private static readonly FrozenDictionary<string, EndpointPicker> NoLanes = FrozenDictionary.ToFrozenDictionary<string, EndpointPicker>([], StringComparer.Ordinal);
    private readonly LoadBalancerRegistry _balancers;
    private readonly TimeProvider _time;
    private MeshSnapshot? _last;

    /// <summary>Creates a compiler.</summary>
    public SnapshotCompiler(LoadBalancerRegistry? balancers = null, TimeProvider? time = null)
    {
        _balancers = balancers ?? LoadBalancerRegistry.Default;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Compiles a document that passed <see cref="MeshValidator"/>. Not thread-safe: one compile at a time.</summary>
    /// <param name="document">The validated document.</param>
    /// <param name="version">The snapshot version to stamp.</param>
    /// <param name="serviceName">The local service name, overriding <c>mesh.serviceName</c> when set.</param>
    public MeshSnapshot Compile(MeshDocument document, long version, string? serviceName = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        var zone = document.Mesh?.Zone;
        var last = _last;
        var carryOver = last is not null && string.Equals(last.Document.Mesh?.Zone, zone, StringComparison.Ordinal);
        var services = new List<MeshService>(document.Services?.Count ?? 0);
        foreach (var (name, serviceDocument) in document.Services ?? [])
        {
            // Only a service of exactly this name hands its endpoint state on: "ORDERS" is not "orders".
            var previous = last is not null && last.Services.TryGetValue(name, out var found) && string.Equals(found.Name, name, StringComparison.Ordinal)
                ? found
                : null;
            services.Add(carryOver && ReferenceEquals(previous?.Source, serviceDocument)
                ? previous!
                : CompileService(name, serviceDocument, zone, previous));
        }

        var signingKey = document.Mesh?.CallerSigningKey;
        var signature = signingKey is null ? null
            : last?.CallerSignature is { } kept && kept.HasKey(signingKey) ? kept
            : new CallerSignature(signingKey, _time);
        var snapshot = new MeshSnapshot(version, document, ServiceMap.Create(services, last?.ServiceMap), serviceName, signature);
        _last = snapshot;
        return snapshot;
    }

    // Endpoints that stay (same id, same scheme, host and port) keep their state from the previous compile of the
    // service: in-flight counts, ejection, breaker. One that left and comes back starts clean.
    private MeshService CompileService(string name, ServiceDocument document, string? zone, MeshService? previous)
    {
        var policy = document.Policy ?? new PolicyDocument();
        var endpoints = new List<Endpoint>();
        foreach (var endpointDocument in document.Endpoints ?? [])
        {
            var address = new Uri(endpointDocument.Address!, UriKind.Absolute);
            var state = previous is not null && previous.EndpointsById.TryGetValue(endpointDocument.Id!, out var stayed)
                && string.Equals(stayed.UriPrefix, address.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal)
                ? stayed.State
                : new EndpointState();
            var tags = endpointDocument.Tags is { Count: > 0 } given ? given.ToFrozenDictionary(StringComparer.Ordinal) : NoTags;
            endpoints.Add(new Endpoint(name, endpointDocument.Id!, address, endpointDocument.Weight ?? EndpointWeights.Default,
                endpointDocument.Zone, tags, endpointDocument.StartedAt, state));
        }

        var all = endpoints.ToArray();
        var balancerDocument = policy.LoadBalancer;
        var balancer = _balancers.TryGet(balancerDocument?.Kind ?? RoundRobinLoadBalancer.KindName, out var found)
            ? found
            : throw new InvalidOperationException($"unknown load balancer '{balancerDocument?.Kind}' passed validation");
        var warmUp = policy.WarmUp is { Duration: { } duration } warm ? new WarmUp(duration, warm.Curve ?? 1, _time) : null;
        var pickerSettings = new PickerSettings(warmUp, zone);

        EndpointPicker? CreatePicker(IEnumerable<Endpoint> candidates)
        {
            // Weight 0 drains an endpoint: it stays listed (and reported) but is never picked.
            var usable = candidates.Where(e => e.Weight > 0).ToArray();
            return usable.Length == 0 ? null : balancer.CreatePicker(usable, balancerDocument, pickerSettings);
        }

        CompiledDestination CompileDestination(DestinationDocument destination)
        {
            var subset = destination.Subset is { Count: > 0 } given ? given.ToFrozenDictionary(StringComparer.Ordinal) : NoTags;
            var members = subset.Count == 0 ? all : all.Where(e => subset.All(t => e.Tags.TryGetValue(t.Key, out var v) && v == t.Value)).ToArray();
            var explicitPicker = subset.ContainsKey(EndpointTags.Lane) ? CreatePicker(members) : null;
            var lanes = !Array.Exists(members, e => e.Lane is not null) ? NoLanes : members.Where(e => e.Lane is not null)
                .GroupBy(e => e.Lane!, StringComparer.Ordinal)
                .Select(g => (Lane: g.Key, Picker: CreatePicker(g)))
                .Where(p => p.Picker is not null)
                .ToFrozenDictionary(p => p.Lane, p => p.Picker!, StringComparer.Ordinal);
            return new CompiledDestination(subset, destination.Weight ?? EndpointWeights.Default,
                CreatePicker(members.Where(e => e.Lane is null)), lanes, explicitPicker);
        }

        // The conditions, their index and the fingerprint depend on the policy alone: an endpoint change under the same
        // policy object keeps them, and only destinations (which hold endpoints) are built again.
        var samePolicy = ReferenceEquals(previous?.Source.Policy, document.Policy) && document.Policy is not null;
        var ruleDocuments = policy.Routes ?? [];
        var matchers = samePolicy ? [.. previous!.Routes.Select(r => r.Matcher)] : ruleDocuments.Select(r => RequestMatcher.Create(r.Match)).ToArray();
        var routes = ruleDocuments.Select((route, index) => new CompiledRoute(
            route.Name ?? $"route-{index}",
            matchers[index],
            [.. route.Destinations!.Where(d => (d.Weight ?? EndpointWeights.Default) > 0).Select(CompileDestination)])).ToArray();
        var defaultRoute = new CompiledRoute(DefaultRouteName, RequestMatcher.Any, [CompileDestination(new DestinationDocument())]);
        var index = samePolicy ? previous!.RouteIndex : new RouteIndex(matchers);
        var fingerprint = samePolicy ? previous!.PolicyFingerprint : MeshJson.Serialize(policy);
        return new MeshService(name, all, routes, index, defaultRoute, policy.Lane?.Fallback == "reject", balancerDocument?.HashOn, policy, fingerprint, document);
    }
}
