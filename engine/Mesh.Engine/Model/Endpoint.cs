using System.Collections.Frozen;

namespace Mesh.Model;

/// <summary>
/// One instance of a service as compiled into a snapshot. Immutable; the mutable runtime counters live in
/// <see cref="State"/>, which is carried over from snapshot to snapshot while the endpoint stays.
/// </summary>
public sealed class Endpoint
{
    private RequestAddress? _lastRequestUri;

    internal Endpoint(string service, string id, Uri address, int weight, string? zone, FrozenDictionary<string, string> tags,
        DateTimeOffset? startedAt, EndpointState state)
    {
        Service = service;
        Id = id;
        Address = address;
        Weight = weight;
        Zone = zone;
        Tags = tags;
        Lane = tags.GetValueOrDefault(EndpointTags.Lane);
        StartedAt = startedAt;
        State = state;
        UriPrefix = address.GetLeftPart(UriPartial.Authority);
        Authority = address.IsDefaultPort ? address.Host : $"{address.Host}:{address.Port}";
    }

    /// <summary>The logical service the endpoint belongs to.</summary>
    public string Service { get; }

    /// <summary>Unique within the service.</summary>
    public string Id { get; }

    /// <summary>Scheme, host and port.</summary>
    public Uri Address { get; }

    /// <summary><c>scheme://host:port</c> without a trailing slash, ready to prepend to a path.</summary>
    public string UriPrefix { get; }

    /// <summary><c>host:port</c>, as a Host header would carry it.</summary>
    public string Authority { get; }

    /// <summary>Configured weight (before warm-up).</summary>
    public int Weight { get; }

    /// <summary>The zone the endpoint runs in.</summary>
    public string? Zone { get; }

    /// <summary>Labels of the endpoint.</summary>
    public FrozenDictionary<string, string> Tags { get; }

    /// <summary>The lane the endpoint serves, or null for the base lane.</summary>
    public string? Lane { get; }

    /// <summary>When the endpoint started serving, when known.</summary>
    public DateTimeOffset? StartedAt { get; }

    /// <summary>Live counters and ejection state, shared across snapshots.</summary>
    public EndpointState State { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Service}/{Id} ({UriPrefix})";

    /// <summary>
    /// The address of a request for <paramref name="pathAndQuery"/> on this endpoint. The last one built is kept and
    /// handed out again for the same path: clients mostly repeat their paths, a <see cref="Uri"/> is immutable, and
    /// parsing one is most of what rewriting a request costs.
    /// </summary>
    public Uri RequestUri(string pathAndQuery)
    {
        ArgumentNullException.ThrowIfNull(pathAndQuery);
        var last = Volatile.Read(ref _lastRequestUri);
        if (last is not null && string.Equals(last.PathAndQuery, pathAndQuery, StringComparison.Ordinal))
        {
            return last.Uri;
        }

        var uri = new Uri(string.Concat(UriPrefix, pathAndQuery), UriKind.Absolute);
        Volatile.Write(ref _lastRequestUri, new RequestAddress(pathAndQuery, uri));
        return uri;
    }

    private sealed record RequestAddress(string PathAndQuery, Uri Uri);
}

/// <summary>Tag names with a meaning to the mesh.</summary>
public static class EndpointTags
{
    /// <summary>The lane an endpoint serves.</summary>
    public const string Lane = "lane";
}

/// <summary>Weight defaults.</summary>
public static class EndpointWeights
{
    /// <summary>Weight of an endpoint or destination that names none.</summary>
    public const int Default = 100;
}
