using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Mesh.Configuration;
using Mesh.Providers.Etcd;

namespace Mesh.Cli;

/// <summary>Reads and writes the mesh documents in etcd, one key per document.</summary>
internal sealed class EtcdMeshStore : IDisposable
{
    private readonly EtcdClient _client;

    public EtcdMeshStore(string endpoints, string prefix)
    {
        _client = new EtcdClient(endpoints);
        Keys = new EtcdKeys(prefix);
    }

    public EtcdKeys Keys { get; }

    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var response = await _client.GetAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Kvs.Count == 0 ? null : response.Kvs[0].Value.ToStringUtf8();
    }

    public Task PutAsync(string key, string value, CancellationToken cancellationToken)
        => _client.PutAsync(key, value, cancellationToken: cancellationToken);

    /// <summary>Deletes one key (or, with <paramref name="prefix"/>, every key under it); returns how many went.</summary>
    public async Task<long> DeleteAsync(string key, bool prefix, CancellationToken cancellationToken)
    {
        var response = prefix
            ? await _client.DeleteRangeAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false)
            : await _client.DeleteAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.Deleted;
    }

    /// <summary>
    /// Assembles the whole mesh document from the keys under the prefix, one range read, the way the runtime's
    /// provider does: a key whose value is invalid, or a service its keys make invalid as a whole, is left out and
    /// returned as an error naming the keys.
    /// </summary>
    public async Task<(MeshDocument Document, List<ValidationError> Errors)> ReadDocumentAsync(CancellationToken cancellationToken)
    {
        var response = await _client.GetRangeAsync(Keys.Range, cancellationToken: cancellationToken).ConfigureAwait(false);
        var state = new EtcdDocumentState(Keys, DocumentValidation.Validator);
        var errors = new List<ValidationError>();
        foreach (var kv in response.Kvs)
        {
            var key = kv.Key.ToStringUtf8();
            if (Keys.Parse(key).Kind != EtcdKeyKind.Unknown)
            {
                errors.AddRange(state.Put(key, kv.Value.ToStringUtf8()).Select(e => e with { Path = $"{key} {e.Path}" }));
            }
        }

        foreach (var (keys, refused) in state.Commit())
        {
            errors.AddRange(refused.Select(e => e with { Path = $"{keys} {e.Path}" }));
        }

        return (state.ToDocument(), errors);
    }

    /// <summary>
    /// What the runtime would refuse about <paramref name="service"/> as a whole once <paramref name="key"/> holds
    /// <paramref name="value"/>: the provider's own per-service check (<see cref="EtcdDocumentState.Commit"/>: weights,
    /// ids, a name that differs from another service's only in case), on the keys as they are now.
    /// </summary>
    public async Task<List<ValidationError>> CheckServiceAsync(string service, string key, string value, CancellationToken cancellationToken)
    {
        var state = new EtcdDocumentState(Keys, DocumentValidation.Validator);

        // Other spellings of the name go in first, as they are in force for the provider already.
        foreach (var other in (await ServiceNamesAsync(cancellationToken).ConfigureAwait(false))
            .Where(n => !string.Equals(n, service, StringComparison.Ordinal) && string.Equals(n, service, StringComparison.OrdinalIgnoreCase)))
        {
            foreach (var kv in (await _client.GetRangeAsync(Keys.Service(other), cancellationToken: cancellationToken).ConfigureAwait(false)).Kvs)
            {
                state.Put(kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8());
            }
        }

        state.Commit();
        var current = await _client.GetRangeAsync(Keys.Service(service), cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var kv in current.Kvs.Where(kv => kv.Key.ToStringUtf8() != key))
        {
            state.Put(kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8());
        }

        state.Put(key, value);
        return [.. state.Commit().SelectMany(refused => refused.Errors)];
    }

    // The service names under the prefix, from the keys only, in pages: a mesh of 100,000 endpoints is more keys than
    // one gRPC message holds.
    private async Task<HashSet<string>> ServiceNamesAsync(CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var from = ByteString.CopyFromUtf8(Keys.Services);
        var end = ByteString.CopyFromUtf8(EtcdClient.GetRangeEnd(Keys.Services));
        while (true)
        {
            var page = await _client.GetAsync(new RangeRequest { Key = from, RangeEnd = end, KeysOnly = true, Limit = 10_000 }, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var kv in page.Kvs)
            {
                if (Keys.Parse(kv.Key.ToStringUtf8()).Service is { } name)
                {
                    names.Add(name);
                }
            }

            if (!page.More || page.Kvs.Count == 0)
            {
                return names;
            }

            from = ByteString.CopyFrom([.. page.Kvs[^1].Key.Span, 0]);
        }
    }

    /// <summary>
    /// Writes a whole document in one transaction: every service's policy and endpoints, and the settings.
    /// With <paramref name="replace"/> the service keys already under the prefix that the document does not hold are
    /// deleted in the same transaction, so watchers never see a half-imported mesh.
    /// </summary>
    public async Task<int> ImportAsync(MeshDocument document, bool replace, CancellationToken cancellationToken)
    {
        var request = new TxnRequest();
        var written = new HashSet<string>(StringComparer.Ordinal);
        var puts = 0;
        void Put(string key, string value)
        {
            request.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } });
            written.Add(key);
            puts++;
        }

        if (document.Mesh is { } settings)
        {
            Put(Keys.Config, MeshJson.Serialize(settings));
        }

        foreach (var (name, service) in document.Services ?? [])
        {
            if (service.Policy is { } policy)
            {
                Put(Keys.Policy(name), MeshJson.Serialize(policy));
            }

            foreach (var endpoint in service.Endpoints ?? [])
            {
                Put(Keys.Endpoint(name, endpoint.Id!), MeshJson.Serialize(endpoint));
            }
        }

        if (replace)
        {
            // etcd refuses a transaction that deletes a range and puts a key inside it, so delete key by key.
            var existing = await _client.GetRangeAsync(Keys.Services, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (var key in existing.Kvs.Select(kv => kv.Key.ToStringUtf8()).Where(k => !written.Contains(k)))
            {
                request.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) } });
            }
        }

        await _client.TransactionAsync(request, cancellationToken: cancellationToken).ConfigureAwait(false);
        return puts;
    }

    public void Dispose() => _client.Dispose();
}
