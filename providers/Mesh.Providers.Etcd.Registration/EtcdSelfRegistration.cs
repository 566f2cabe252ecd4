using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Mesh.Configuration;
using Mesh.Runtime;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Mesh.Providers.Etcd.Registration;

/// <summary>
/// Registers the app in etcd once its server listens: the endpoint document under
/// <c>{prefix}/services/{service}/endpoints/{id}</c>, bound to a lease kept alive while the app runs, so a crashed
/// instance disappears when the lease expires. A lost lease is granted and the endpoint written again. On graceful
/// shutdown the key is deleted first, then the app keeps serving for the drain delay while callers converge, and
/// only then does the server stop accepting.
/// </summary>
internal sealed partial class EtcdSelfRegistration(
    EtcdProviderOptions etcd,
    RegistrationOptions options,
    IServer server,
    IHostApplicationLifetime lifetime,
    MeshRuntime runtime) : IHostedService
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger = runtime.LoggerFactory.CreateLogger("Mesh.Registration");
    private EtcdConnection? _connection;
    private Task? _loop;
    private string? _key;
    private long _lease;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() => _loop = Task.Run(() => RunAsync(_stopping.Token)));
        lifetime.ApplicationStopping.Register(Deregister);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _connection?.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var service = options.ServiceName ?? runtime.Snapshot.ServiceName;
        string? address;
        string document;
        try
        {
            address = AdvertisedAddress();
            if (service is null || address is null)
            {
                Log.NotRegistered(_logger, service ?? "(no service name)", address ?? "(no http address)");
                return;
            }

            _connection = new EtcdConnection(etcd);
            var id = options.EndpointId ?? $"{Environment.MachineName}-{new Uri(address).Port}";
            _key = new EtcdKeys(etcd.Prefix).Endpoint(service, id);
            document = MeshJson.Serialize(new EndpointDocument
            {
                Id = id,
                Address = address,
                Weight = options.Weight,
                Zone = options.Zone,
                Tags = options.Tags.Count > 0 ? options.Tags : null,
                StartedAt = runtime.Time.GetUtcNow(),
            });
        }
        catch (Exception ex)
        {
            // Bad settings (no etcd endpoints, an unreadable certificate, a malformed advertised address) leave the
            // app running, unregistered; this runs on a pool thread where nobody would see the exception otherwise.
            runtime.ReportProviderFailure("etcd registration", ex);
            return;
        }

        var retry = new EtcdRetryLoop(_connection, etcd, runtime, $"etcd registration {_key}");
        await retry.RunAsync(async ct =>
        {
            var headers = await _connection.HeadersAsync(ct).ConfigureAwait(false);
            var grant = await _connection.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = (long)Math.Ceiling(options.LeaseTtl.TotalSeconds) },
                headers, DateTime.UtcNow + etcd.CallTimeout, ct).ConfigureAwait(false);
            Interlocked.Exchange(ref _lease, grant.ID);
            await _connection.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(_key), Value = ByteString.CopyFromUtf8(document), Lease = grant.ID },
                headers, DateTime.UtcNow + etcd.CallTimeout, ct).ConfigureAwait(false);
            Log.Registered(_logger, _key, address);
            retry.Succeeded();
            await KeepAliveAsync(grant.ID, headers, ct).ConfigureAwait(false);
            Log.LeaseLost(_logger, _key);
        }, failed: null, stopping).ConfigureAwait(false);
    }

    // Returns when the lease is gone (expired while etcd was unreachable, or revoked): the caller registers again.
    private async Task KeepAliveAsync(long lease, Metadata headers, CancellationToken stopping)
    {
        using var call = _connection!.Lease.LeaseKeepAlive(headers, cancellationToken: stopping);
        var interval = TimeSpan.FromTicks(options.LeaseTtl.Ticks / 3);
        while (!stopping.IsCancellationRequested)
        {
            await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, stopping).ConfigureAwait(false);
            if (!await call.ResponseStream.MoveNext(stopping).ConfigureAwait(false) || call.ResponseStream.Current.TTL <= 0)
            {
                return;
            }

            await Task.Delay(interval, runtime.Time, stopping).ConfigureAwait(false);
        }
    }

    // Runs in ApplicationStopping, before the server stops accepting: callers stop picking this endpoint while it
    // still serves, so nothing in flight or in their pipelines fails.
    private void Deregister()
    {
        _stopping.Cancel();
        if (_key is null || _connection is null)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(etcd.CallTimeout);
            _connection.Kv.DeleteRange(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(_key) },
                _connection.HeadersAsync(timeout.Token).GetAwaiter().GetResult(), DateTime.UtcNow + etcd.CallTimeout, timeout.Token);
            _connection.Lease.LeaseRevoke(new LeaseRevokeRequest { ID = Interlocked.Read(ref _lease) },
                deadline: DateTime.UtcNow + etcd.CallTimeout, cancellationToken: timeout.Token);
            Log.Deregistered(_logger, _key, options.DrainDelay);
        }
        catch (Exception ex) when (ex is RpcException or IOException or HttpRequestException or OperationCanceledException)
        {
            // The lease expiry removes the endpoint anyway; draining still helps callers that saw it.
            Log.DeregistrationFailed(_logger, _key, ex.Message);
        }
        catch (Exception ex)
        {
            // Whatever went wrong, the drain below still runs: skipping it would fail the calls of callers that
            // still pick this endpoint.
            runtime.ReportProviderFailure($"etcd registration {_key}", ex);
        }

        // ApplicationStopping callbacks are synchronous, and returning ends the drain (the server stops next), so this
        // waits here; on the mesh clock, so that tests control it.
        Task.Delay(options.DrainDelay, runtime.Time).GetAwaiter().GetResult();
    }

    private string? AdvertisedAddress()
    {
        if (options.AdvertiseAddress is { Length: > 0 } advertised)
        {
            return advertised.TrimEnd('/');
        }

        var bound = server.Features.Get<IServerAddressesFeature>()?.Addresses
            .FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || a.StartsWith("https://", StringComparison.OrdinalIgnoreCase));
        if (bound is null)
        {
            return null;
        }

        var uri = new Uri(bound.Replace("://+", "://0.0.0.0", StringComparison.Ordinal).Replace("://*", "://0.0.0.0", StringComparison.Ordinal));
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : uri.Host;
        return string.Create(CultureInfo.InvariantCulture, $"{uri.Scheme}://{host}:{uri.Port}");
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Registered {Key} at {Address}")]
        public static partial void Registered(ILogger logger, string key, string address);

        [LoggerMessage(2, LogLevel.Warning, "Deregistration of {Key} failed ({Reason}); the lease expiry removes it")]
        public static partial void DeregistrationFailed(ILogger logger, string key, string reason);

        [LoggerMessage(3, LogLevel.Warning, "Lease of {Key} lost; registering again")]
        public static partial void LeaseLost(ILogger logger, string key);

        [LoggerMessage(4, LogLevel.Information, "Deregistered {Key}; draining for {Drain}")]
        public static partial void Deregistered(ILogger logger, string key, TimeSpan drain);

        [LoggerMessage(5, LogLevel.Warning, "Not registering: service {Service}, address {Address}")]
        public static partial void NotRegistered(ILogger logger, string service, string address);
    }
}
