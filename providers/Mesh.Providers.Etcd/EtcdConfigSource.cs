using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Configuration;
using Mesh.Runtime;
using Microsoft.Extensions.Logging;

namespace Mesh.Providers.Etcd;

/// <summary>
/// Mesh configuration from etcd. One range read of the prefix, then one watch from the read's revision + 1; the
/// events of each watch response are applied in revision order and the result applied once, so no half-applied
/// state is ever visible. On disconnect, member failure or compaction of the watched revision it re-lists and
/// re-watches with backoff; meanwhile the last good configuration stays in force. What it reads is the
/// <see cref="MeshConfigLayer.Etcd"/> layer of the runtime, over the embedded file's.
/// </summary>
public sealed partial class EtcdConfigSource : IMeshConfigSource
{
    private readonly EtcdProviderOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstLoad = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _applyGate = new();
    private EtcdConnection? _connection;
    private EtcdRetryLoop? _retry;
    private MeshRuntime? _runtime;
    private ILogger? _logger;
    private Task? _loop;
    private long _revision;
    private long _fullReads;
    private bool _connected;
    private bool _applied;

    /// <summary>Creates a source.</summary>
    public EtcdConfigSource(EtcdProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <inheritdoc />
    public string Name => $"etcd {string.Join(",", _options.Endpoints)} {_options.Prefix}";

    /// <summary>The etcd revision the configuration in force was read at.</summary>
    public long Revision => Interlocked.Read(ref _revision);

    /// <summary>
    /// True while the last read or watch of etcd succeeded; false from the moment a failure is noticed (the last
    /// good configuration stays in force meanwhile) until a full read succeeds again.
    /// </summary>
    public bool Connected => Volatile.Read(ref _connected);

    /// <summary>Full reads of the prefix so far: the first one, then one after every disconnect or watch reset.</summary>
    public long FullReads => Interlocked.Read(ref _fullReads);

    /// <inheritdoc />
    public async Task StartAsync(MeshRuntime runtime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        _runtime = runtime;
        _logger = runtime.LoggerFactory.CreateLogger("Mesh.Providers.Etcd");
        _connection = new EtcdConnection(_options);
        _retry = new EtcdRetryLoop(_connection, _options, runtime, Name);
        _loop = Task.Run(() => _retry.RunAsync(ListAndWatchAsync, OnFailure, _stopping.Token), CancellationToken.None);
        try
        {
            await _firstLoad.Task.WaitAsync(_options.InitialLoadTimeout, runtime.Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.FirstLoadLate(_logger, Name, _options.InitialLoadTimeout);
            LoadCache();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _connection?.Dispose();
        _stopping.Dispose();
    }

    private async Task ListAndWatchAsync(CancellationToken stopping)
    {
        var state = await ListAsync(stopping).ConfigureAwait(false);
        _retry!.Succeeded();
        await WatchAsync(state, stopping).ConfigureAwait(false);
    }

    private void OnFailure(Exception exception)
    {
        Volatile.Write(ref _connected, false);

        // A refused connection fails the first read at once: start from the cache now rather than after
        // InitialLoadTimeout, which is longer than hosts (the startup hook) wait for the first configuration.
        if (!_firstLoad.Task.IsCompleted && LoadCache())
        {
            _firstLoad.TrySetResult();
        }
    }

    private async Task<EtcdDocumentState> ListAsync(CancellationToken stopping)
    {
        var range = new EtcdKeys(_options.Prefix).Range;
        var response = await _connection!.Kv.RangeAsync(
            new RangeRequest { Key = ByteString.CopyFromUtf8(range), RangeEnd = EtcdConnection.RangeEnd(range) },
            await _connection.HeadersAsync(stopping).ConfigureAwait(false),
            DateTime.UtcNow + _options.CallTimeout,
            stopping).ConfigureAwait(false);

        var state = new EtcdDocumentState(new EtcdKeys(_options.Prefix), _runtime!.Validator);
        foreach (var kv in response.Kvs)
        {
            Put(state, kv.Key.ToStringUtf8(), kv.Value);
        }

        Apply(state, response.Header.Revision);
        Interlocked.Increment(ref _fullReads);
        Volatile.Write(ref _connected, true);
        _firstLoad.TrySetResult();
        return state;
    }

    private async Task WatchAsync(EtcdDocumentState state, CancellationToken stopping)
    {
        var range = new EtcdKeys(_options.Prefix).Range;
        using var call = _connection!.Watch.Watch(await _connection.HeadersAsync(stopping).ConfigureAwait(false), cancellationToken: stopping);
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = ByteString.CopyFromUtf8(range),
                RangeEnd = EtcdConnection.RangeEnd(range),
                StartRevision = Revision + 1,
                ProgressNotify = true,
            },
        }, stopping).ConfigureAwait(false);

        while (await call.ResponseStream.MoveNext(stopping).ConfigureAwait(false))
        {
            var response = call.ResponseStream.Current;
            if (response.CompactRevision > 0 || response.Canceled)
            {
                // The revisions after ours were compacted away (or etcd ended the watch): events were lost, so
                // start over from a full read rather than guess.
                Log.WatchReset(_logger!, response.CompactRevision, response.CancelReason);
                return;
            }

            if (response.Events.Count == 0)
            {
                continue;
            }

            foreach (var change in response.Events)
            {
                var key = change.Kv.Key.ToStringUtf8();
                if (change.Type == Mvccpb.Event.Types.EventType.Delete)
                {
                    state.Delete(key);
                }
                else
                {
                    Put(state, key, change.Kv.Value);
                }
            }

            Apply(state, response.Events[^1].Kv.ModRevision);
        }
    }

    private void Put(EtcdDocumentState state, string key, ByteString value)
    {
        List<ValidationError> errors;
        if (value.Length > MeshJson.MaxDocumentLength)
        {
            errors = [new("$", $"value is {value.Length} bytes, over the limit of {MeshJson.MaxDocumentLength}")];
        }
        else
        {
            errors = state.Put(key, value.ToStringUtf8());
        }

        if (errors.Count > 0)
        {
            _runtime!.ReportRejections(key, errors);
        }
    }

    private void Apply(EtcdDocumentState state, long revision)
    {
        var document = state.ToDocument();
        IReadOnlyList<ValidationError> errors;
        lock (_applyGate)
        {
            errors = _runtime!.Apply(document, $"etcd@{revision}", MeshConfigLayer.Etcd);
            _applied |= errors.Count == 0;
        }

        Interlocked.Exchange(ref _revision, revision);
        if (errors.Count == 0)
        {
            SaveCache(document);
        }
    }

    private void SaveCache(MeshDocument document)
    {
        if (_options.CacheFile is not { } path)
        {
            return;
        }

        try
        {
            File.WriteAllText(path + ".tmp", MeshJson.Serialize(document));
            File.Move(path + ".tmp", path, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.CacheFailed(_logger!, path, ex.Message);
        }
    }

    // True when the cache is in force, or etcd itself already answered (which the cache must not overwrite).
    private bool LoadCache()
    {
        if (_options.CacheFile is not { } path || !File.Exists(path))
        {
            return false;
        }

        lock (_applyGate)
        {
            if (_applied)
            {
                return true;
            }

            try
            {
                _applied = _runtime!.ApplyJson(File.ReadAllText(path), $"cache {path}", MeshConfigLayer.Etcd).Count == 0;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _runtime!.ReportRejections($"cache {path}", [new ValidationError("$", $"cannot read the file: {ex.Message}")]);
            }

            return _applied;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Warning, "etcd watch reset (compacted at revision {CompactRevision}, reason '{Reason}'); reading everything again")]
        public static partial void WatchReset(ILogger logger, long compactRevision, string reason);

        [LoggerMessage(3, LogLevel.Warning, "No configuration from {Source} within {Timeout}; starting from the cache file if there is one")]
        public static partial void FirstLoadLate(ILogger logger, string source, TimeSpan timeout);

        [LoggerMessage(4, LogLevel.Warning, "Cannot write the etcd cache file {Path}: {Reason}")]
        public static partial void CacheFailed(ILogger logger, string path, string reason);
    }
}
