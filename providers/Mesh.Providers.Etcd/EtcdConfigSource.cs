using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Configuration;
using Mesh.Runtime;
using Microsoft.Extensions.Logging;

namespace Mesh.Providers.Etcd;

/// <summary>
/// Mesh configuration from etcd. A paged range read of the prefix at one revision, then one watch from that revision
/// + 1. Watch events go into an <see cref="EtcdDocumentState"/> whole responses at a time, and an applier hands
/// what changed to the runtime: at once when it is idle, else once per <see cref="EtcdProviderOptions.CoalesceWindow"/>
/// with everything that arrived meanwhile, so a burst of changes is one swap and the watch never waits on an apply.
/// On disconnect, member failure or compaction of the watched revision it re-lists and re-watches with backoff;
/// meanwhile the last good configuration stays in force. What it reads is the <see cref="MeshConfigLayer.Etcd"/>
/// layer of the runtime, over the embedded file's.
/// </summary>
/// <remarks>
/// With <see cref="EtcdProviderOptions.ScopeToCalledServices"/> the document holds only the services the process
/// uses; the first call to another one takes it in (<see cref="IServiceDemand"/>) on the calling thread.
/// </remarks>
public sealed partial class EtcdConfigSource : IMeshConfigSource, IServiceDemand
{
    // Keys per page of a full read: each page costs a round trip, so pages are large; a page of large values that the
    // channel refuses is read again in halves.
    private const int PageSize = 5000;

    // etcd refuses values over 1.5 MiB by default; a page of PageSize such keys is far over any limit, so a page the
    // channel refuses (ResourceExhausted) is read again in halves rather than failing the read forever.
    private const int MinPageSize = 1;

    private readonly EtcdProviderOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstLoad = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _applyGate = new();
    private readonly Lock _stateGate = new();
    private readonly SemaphoreSlim _changed = new(0, 1);
    private readonly EtcdKeys _keys;
    private readonly Lock _cacheGate = new();
    private readonly HashSet<string> _takenIn = new(StringComparer.Ordinal);
    private EtcdConnection? _connection;
    private EtcdRetryLoop? _retry;
    private MeshRuntime? _runtime;
    private ILogger? _logger;
    private Task? _loop;
    private Task? _applier;
    private EtcdDocumentState? _state;
    private long _stateRevision;
    private bool _stateChanged;
    private long _revision;
    private long _fullReads;
    private long _applies;
    private long _events;
    private bool _connected;
    private bool _applied;
    private MeshDocument? _unsavedCache;
    private long _cacheSavedAt;
    private int _cacheWriteScheduled;

    /// <summary>Creates a source.</summary>
    public EtcdConfigSource(EtcdProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _keys = new EtcdKeys(options.Prefix);
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

    /// <summary>Watch events received so far (puts and deletes).</summary>
    public long Events => Interlocked.Read(ref _events);

    /// <summary>Documents handed to the runtime so far: one per full read, and one per coalesced batch of events.</summary>
    public long Applies => Interlocked.Read(ref _applies);

    /// <inheritdoc />
    public async Task StartAsync(MeshRuntime runtime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        _runtime = runtime;
        _logger = runtime.LoggerFactory.CreateLogger("Mesh.Providers.Etcd");
        _connection = new EtcdConnection(_options);
        _retry = new EtcdRetryLoop(_connection, _options, runtime, Name);

        // The cache first, then etcd: a member that hangs (rather than refuses) would otherwise leave the first
        // calls unmeshed until the read times out. etcd's first read replaces it moments later when etcd is well.
        LoadCache();
        if (_options.ScopeToCalledServices)
        {
            runtime.SetServiceDemand(this);
        }

        _applier = Task.Run(() => ApplyLoopAsync(_stopping.Token), CancellationToken.None);
        _loop = Task.Run(() => _retry.RunAsync(ListAndWatchAsync, OnFailure, _stopping.Token), CancellationToken.None);
        try
        {
            await _firstLoad.Task.WaitAsync(_options.InitialLoadTimeout, runtime.Time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.FirstLoadLate(_logger, Name, _options.InitialLoadTimeout);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_options.ScopeToCalledServices)
        {
            _runtime?.SetServiceDemand(null);
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _loop, _applier })
        {
            if (task is not null)
            {
                await task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        SaveCache(force: true);
        _connection?.Dispose();
        _stopping.Dispose();
        _changed.Dispose();
    }

    /// <inheritdoc />
    public bool TryTakeIn(ReadOnlySpan<char> host)
    {
        if (Volatile.Read(ref _state) is not { } current || !current.TryFindService(host, out var service))
        {
            return false;
        }

        List<(string Key, List<ValidationError> Errors)> refused;
        lock (_stateGate)
        {
            // Already in (compiled, or refused as a whole and reported): the call goes on as the snapshot has it.
            if (_state!.IsInScope(service))
            {
                return false;
            }

            _takenIn.Add(service);
            refused = _state.TakeIn(service);
            _stateChanged = true;
        }

        foreach (var (key, errors) in refused)
        {
            Report(key, errors);
        }

        ApplyChanges(cacheNow: false);
        return true;
    }

    private async Task ListAndWatchAsync(CancellationToken stopping)
    {
        await ListAsync(stopping).ConfigureAwait(false);
        _retry!.Succeeded();
        await WatchAsync(stopping).ConfigureAwait(false);
    }

    private void OnFailure(Exception exception)
    {
        Volatile.Write(ref _connected, false);

        // A refused connection fails the first read at once: go on with the cache (applied at start) now rather
        // than after InitialLoadTimeout, which is longer than hosts (the startup hook) wait for the first configuration.
        if (!_firstLoad.Task.IsCompleted && Volatile.Read(ref _applied))
        {
            _firstLoad.TrySetResult();
        }
    }

    // Every key under the prefix, in pages at the revision of the first page, so the pages make one consistent
    // state however large the prefix is.
    private async Task ListAsync(CancellationToken stopping)
    {
        var state = new EtcdDocumentState(_keys, _runtime!.Validator) { Scoped = _options.ScopeToCalledServices };
        var rangeEnd = EtcdConnection.RangeEnd(_keys.Range);
        long revision = 0;
        var pageSize = PageSize;
        ByteString? from = ByteString.CopyFromUtf8(_keys.Range);
        var read = new HashSet<string>(StringComparer.Ordinal);
        Task<RangeResponse>? reading = null;
        while (from is not null)
        {
            RangeResponse page;
            try
            {
                page = await (reading ?? ReadPageAsync(from, rangeEnd, pageSize, revision, stopping)).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted && pageSize > MinPageSize)
            {
                pageSize = Math.Max(MinPageSize, pageSize / 2);
                reading = null;
                continue;
            }

            // The first page fixes the revision every later page is read at (a header carries the store's revision of
            // the moment, not the one asked for): the pages make one state, and the watch resumes after it.
            if (revision == 0)
            {
                revision = page.Header.Revision;
            }

            // The next page starts just after the last key read (the key with a zero byte appended), and is on its
            // way while this one is parsed: reading and parsing overlap.
            from = page.More && page.Kvs.Count > 0 ? ByteString.CopyFrom([.. page.Kvs[^1].Key.Span, 0]) : null;
            reading = from is null ? null : ReadPageAsync(from, rangeEnd, pageSize, revision, stopping);
            foreach (var kv in page.Kvs)
            {
                var key = kv.Key.ToStringUtf8();
                read.Add(key);
                Report(key, Put(state, key, kv.Value));
            }
        }

        // A refused key that is gone now (deleted while the watch was down) no longer holds anything closed.
        foreach (var source in _runtime.RefusedSettings.Sources.Where(k => k.StartsWith(_keys.Range, StringComparison.Ordinal) && !read.Contains(k)))
        {
            _runtime.RefusedSettings.Accepted(source);
        }

        var refused = new List<(string Key, List<ValidationError> Errors)>();
        lock (_stateGate)
        {
            if (state.Scoped)
            {
                // What the process is configured to call, its own service (inbound rules), and what it called before.
                // Names as written by the operator or the host: the keys may spell them in another case.
                string?[] own = [_runtime.Options.ServiceName, _runtime.Snapshot.ServiceName, state.ServiceName];
                foreach (var service in _options.Services.Concat(own.OfType<string>()).Concat(_takenIn))
                {
                    refused.AddRange(state.TakeIn(state.TryFindService(service, out var held) ? held : service));
                }
            }

            // Read without the gate by calling threads (TryTakeIn).
            Volatile.Write(ref _state, state);
            _stateRevision = revision;
            _stateChanged = true;
        }

        foreach (var (key, errors) in refused)
        {
            Report(key, errors);
        }

        ApplyChanges(cacheNow: true);
        Interlocked.Increment(ref _fullReads);
        Volatile.Write(ref _connected, true);
        _firstLoad.TrySetResult();
    }

    private async Task<RangeResponse> ReadPageAsync(ByteString from, ByteString rangeEnd, int limit, long revision, CancellationToken stopping)
        => await _connection!.Kv.RangeAsync(
            new RangeRequest { Key = from, RangeEnd = rangeEnd, Limit = limit, Revision = revision },
            await _connection.HeadersAsync(stopping).ConfigureAwait(false),
            DateTime.UtcNow + _options.CallTimeout,
            stopping).ConfigureAwait(false);

    private async Task WatchAsync(CancellationToken stopping)
    {
        using var call = _connection!.Watch.Watch(await _connection.HeadersAsync(stopping).ConfigureAwait(false), cancellationToken: stopping);
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = ByteString.CopyFromUtf8(_keys.Range),
                RangeEnd = EtcdConnection.RangeEnd(_keys.Range),
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

            // A whole response at a time under the gate: the applier sees the state between responses, never
            // half of one (a transaction's keys arrive in one response).
            // Rejections are reported after the gate is let go: reporting takes the runtime's apply lock, which a long
            // apply holds, and calling threads taking a service in wait on this gate.
            var outcomes = new List<(string Key, List<ValidationError> Errors)>(response.Events.Count);
            lock (_stateGate)
            {
                foreach (var change in response.Events)
                {
                    var key = change.Kv.Key.ToStringUtf8();
                    if (change.Type == Mvccpb.Event.Types.EventType.Delete)
                    {
                        _state!.Delete(key);
                        outcomes.Add((key, []));
                    }
                    else
                    {
                        outcomes.Add((key, Put(_state!, key, change.Kv.Value)));
                    }
                }

                // The revision moves on either way; a swap is due only when something in the document changed (under
                // a scope, keys of services left out change nothing).
                _stateRevision = response.Events[^1].Kv.ModRevision;
                _stateChanged |= _state!.HasChanges;
            }

            foreach (var (key, errors) in outcomes)
            {
                Report(key, errors);
            }

            Interlocked.Add(ref _events, response.Events.Count);
            if (_changed.CurrentCount == 0)
            {
                try
                {
                    _changed.Release();
                }
                catch (SemaphoreFullException)
                {
                    // The applier is already signalled; it takes this change with the others.
                }
            }
        }
    }

    private async Task ApplyLoopAsync(CancellationToken stopping)
    {
        long lastApply = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await _changed.WaitAsync(stopping).ConfigureAwait(false);
                if (lastApply != 0 && _options.CoalesceWindow - _runtime!.Time.GetElapsedTime(lastApply) is { Ticks: > 0 } wait)
                {
                    await Task.Delay(wait, _runtime.Time, stopping).ConfigureAwait(false);
                }

                lastApply = _runtime!.Time.GetTimestamp();
                ApplyChanges(cacheNow: false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Never let the applier die: the mesh would freeze on its last state for the life of the process.
                _runtime!.ReportProviderFailure(Name, ex);
            }
        }
    }

    private static List<ValidationError> Put(EtcdDocumentState state, string key, ByteString value)
        => value.Length > MeshJson.MaxValueLength
            ? [new("$", $"value is {value.Length} bytes, over the limit of {MeshJson.MaxValueLength}")]
            : state.Put(key, value.ToStringUtf8());

    // A refused policy key is also told to the runtime's RefusedSettings (an access guard fails closed on it) until
    // the key is accepted or deleted. An accepted key is parsed for nothing: Accepted ignores a key with no record.
    private void Report(string key, List<ValidationError> errors)
    {
        if (errors.Count == 0)
        {
            _runtime!.RefusedSettings.Accepted(key);
            return;
        }

        _runtime!.ReportRejections(key, errors);
        if (_keys.Parse(key) is { Kind: EtcdKeyKind.Policy, Service: { } service })
        {
            _runtime.RefusedSettings.Refused(key, service, errors, "$");
        }
    }

    private void ApplyChanges(bool cacheNow)
    {
        lock (_applyGate)
        {
            MeshDocument document;
            long revision;
            List<(string Keys, List<ValidationError> Errors)> refused;
            lock (_stateGate)
            {
                if (!_stateChanged)
                {
                    // Events of services left out of the scope: nothing to swap, but they were read.
                    Interlocked.Exchange(ref _revision, _stateRevision);
                    return;
                }

                refused = _state!.Commit();
                document = _state.ToDocument();
                revision = _stateRevision;
                _stateChanged = false;
            }

            foreach (var (keys, errors) in refused)
            {
                _runtime!.ReportRejections(keys, errors);
            }

            var applied = _runtime!.Apply(document, $"etcd@{revision}", MeshConfigLayer.Etcd).Count == 0;
            Interlocked.Increment(ref _applies);
            Interlocked.Exchange(ref _revision, revision);
            if (applied)
            {
                Volatile.Write(ref _applied, true);
                Volatile.Write(ref _unsavedCache, document);
                SaveCache(cacheNow);
            }
        }
    }

    // Writing the cache serializes the whole document: during a rolling deploy that would cost every change the
    // mesh's size again, so it is written at most once per CacheInterval (on a full read and at stop at once).
    private void SaveCache(bool force)
    {
        if (_options.CacheFile is not { } path || _runtime is null)
        {
            return;
        }

        if (!force && Interlocked.Read(ref _cacheSavedAt) is var last and not 0 && _runtime.Time.GetElapsedTime(last) < _options.CacheInterval)
        {
            if (Interlocked.Exchange(ref _cacheWriteScheduled, 1) == 0)
            {
                _ = SaveCacheLaterAsync();
            }

            return;
        }

        lock (_cacheGate)
        {
            if (Interlocked.Exchange(ref _unsavedCache, null) is not { } document)
            {
                return;
            }

            Interlocked.Exchange(ref _cacheSavedAt, _runtime.Time.GetTimestamp());
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
    }

    // One deferred write, of whatever is newest when it runs; the final one at stop is DisposeAsync's.
    private async Task SaveCacheLaterAsync()
    {
        try
        {
            await Task.Delay(_options.CacheInterval, _runtime!.Time, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // Stopping: DisposeAsync writes the last state itself.
            return;
        }

        Volatile.Write(ref _cacheWriteScheduled, 0);
        SaveCache(force: true);
    }

    private void LoadCache()
    {
        if (_options.CacheFile is not { } path || !File.Exists(path))
        {
            return;
        }

        lock (_applyGate)
        {
            try
            {
                if (_runtime!.ApplyJson(File.ReadAllText(path), $"cache {path}", MeshConfigLayer.Etcd).Count == 0)
                {
                    Volatile.Write(ref _applied, true);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _runtime!.ReportRejections($"cache {path}", [new ValidationError("$", $"cannot read the file: {ex.Message}")]);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(2, LogLevel.Warning, "etcd watch reset (compacted at revision {CompactRevision}, reason '{Reason}'); reading everything again")]
        public static partial void WatchReset(ILogger logger, long compactRevision, string reason);

        [LoggerMessage(3, LogLevel.Warning, "No configuration from {Source} within {Timeout}; going on with the cache file if there was one")]
        public static partial void FirstLoadLate(ILogger logger, string source, TimeSpan timeout);

        [LoggerMessage(4, LogLevel.Warning, "Cannot write the etcd cache file {Path}: {Reason}")]
        public static partial void CacheFailed(ILogger logger, string path, string reason);
    }
}
