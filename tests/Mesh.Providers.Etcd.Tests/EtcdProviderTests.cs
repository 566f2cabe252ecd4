using Mesh.Providers.Etcd;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.Extensions.Time.Testing;
using static Mesh.Providers.Etcd.Tests.EtcdTestOptions;

namespace Mesh.Providers.Etcd.Tests;

public sealed class EtcdProviderTests
{
    [Fact]
    public async Task PutAndDelete_TakeEffectForNextRequests()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        await using var backend = await TestBackend.StartAsync("b1");
        await client.PutAsync("/t1/services/orders/endpoints/e1", Endpoint(backend.Address));
        using var runtime = new MeshRuntime();
        await using var source = new EtcdConfigSource(For(etcd, "/t1"));
        await source.StartAsync(runtime, CancellationToken.None);
        Assert.Equal("e1", Pick(runtime));

        // Through a real HttpClient, too.
        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);
        using var http = new HttpClient();
        Assert.Equal("b1", await http.GetStringAsync("http://orders/"));

        await client.PutAsync("/t1/services/orders/endpoints/e2", Endpoint(backend.Address, """, "tags": { "version": "v2" }"""));
        await client.PutAsync("/t1/services/orders/policy", """{ "routes": [ { "destinations": [ { "subset": { "version": "v2" } } ] } ] }""");
        await Eventually.UntilAsync(() => Pick(runtime) == "e2", "the new route to apply", Converge);

        await client.DeleteAsync("/t1/services/orders/policy");
        await client.DeleteAsync("/t1/services/orders/endpoints/e2");
        await Eventually.UntilAsync(() => runtime.Snapshot.Services["orders"].Endpoints.Length == 1, "the delete to apply", Converge);
        Assert.Equal("e1", Pick(runtime));
    }

    [Fact]
    public async Task BadValues_RejectedPerKeyWithReason_RestApplies_WatchGoesOn()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        await client.PutAsync("/t2/services/orders/endpoints/good", Endpoint("http://127.0.0.1:1"));
        using var runtime = new MeshRuntime();
        await using var source = new EtcdConfigSource(For(etcd, "/t2"));
        await source.StartAsync(runtime, CancellationToken.None);

        await client.PutAsync("/t2/services/orders/policy", "{ \"routes\": [ ");
        await client.PutAsync("/t2/services/orders/endpoints/typed", """{ "address": "http://127.0.0.1:2", "weight": "heavy" }""");
        await client.PutAsync("/t2/services/orders/endpoints/huge", new string('x', Mesh.Configuration.MeshJson.MaxValueLength + 10));
        await client.PutAsync("/t2/services/orders/endpoints/late", Endpoint("http://127.0.0.1:3"));
        await Eventually.UntilAsync(() => runtime.Snapshot.Services.TryGetValue("orders", out var s) && s.EndpointsById.ContainsKey("late"),
            "the good key after the bad ones to apply", Converge);

        var rejections = runtime.RecentRejections;
        Assert.Contains(rejections, r => r.Source == "/t2/services/orders/policy");
        Assert.Contains(rejections, r => r.Source == "/t2/services/orders/endpoints/typed" && r.Error.Path == "$.weight");
        Assert.Contains(rejections, r => r.Source == "/t2/services/orders/endpoints/huge" && r.Error.Message.Contains("over the limit", StringComparison.Ordinal));
        Assert.Equal(["good", "late"], runtime.Snapshot.Services["orders"].Endpoints.Select(e => e.Id).Order());

        // A bad edit of a key that was good keeps the key's last good value.
        await client.PutAsync("/t2/services/orders/endpoints/good", """{ "address": "ftp://nowhere" }""");
        await client.PutAsync("/t2/services/orders/endpoints/marker", Endpoint("http://127.0.0.1:4"));
        await Eventually.UntilAsync(() => runtime.Snapshot.Services["orders"].EndpointsById.ContainsKey("marker"), "the marker to apply", Converge);
        Assert.Equal("http://127.0.0.1:1/", runtime.Snapshot.Services["orders"].EndpointsById["good"].Address.ToString());
    }

    [Fact]
    public async Task EtcdDown_RoutingContinues_ChangesAndCompactionWhileCutOff_ReListsAndConverges()
    {
        await using var etcd = await EtcdServer.StartAsync();

        // The source waits out its reconnection backoff on this clock, which only the test moves: once it has noticed
        // the outage it cannot reconnect until the changes below are made, so it must catch up by reading again.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var runtime = new MeshRuntime(time: time);
        using (var client = etcd.Client())
        {
            await client.PutAsync("/t3/services/orders/endpoints/before", Endpoint("http://127.0.0.1:1"));
        }

        await using var source = new EtcdConfigSource(For(etcd, "/t3"));
        await source.StartAsync(runtime, CancellationToken.None);
        Assert.Equal("before", Pick(runtime));
        Assert.True(source.Connected);
        Assert.Equal(1, source.FullReads);

        etcd.KillAll();
        await Eventually.UntilAsync(() => !source.Connected, "the source to notice that etcd is down", Converge);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("before", Pick(runtime));
        }

        await etcd.RestartAllAsync();
        using (var client = etcd.Client())
        {
            await client.DeleteAsync("/t3/services/orders/endpoints/before");
            for (var i = 0; i < 5; i++)
            {
                await client.PutAsync($"/t3/services/orders/endpoints/after{i}", Endpoint("http://127.0.0.1:2"));
            }

            // Compacted past every revision the source saw: watching from where it stopped is impossible.
            var revision = (await client.GetAsync("/t3/")).Header.Revision;
            await client.CompactAsync(new Etcdserverpb.CompactionRequest { Revision = revision, Physical = true });
        }

        Assert.Equal("before", Pick(runtime));
        Assert.False(source.Connected);

        await Eventually.UntilAsync(() =>
        {
            time.Advance(TimeSpan.FromSeconds(1));
            return source.Connected && runtime.Snapshot.Services["orders"].Endpoints.Length == 5;
        }, "the source to reconnect and converge on the new state", Converge);
        Assert.StartsWith("after", Pick(runtime), StringComparison.Ordinal);
        Assert.Equal(2, source.FullReads);
    }

    [Fact]
    public async Task WatchLoop_UnexpectedException_ReportedAndCounted_WatchGoesOn()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        await client.PutAsync("/t6/services/orders/endpoints/e1", Endpoint("http://127.0.0.1:1"));
        var logs = new TestLoggerFactory();
        using var runtime = new MeshRuntime(loggerFactory: logs);
        using var failures = new MetricRecorder(runtime.Telemetry.Meter, "mesh.provider.failures");
        await using var source = new EtcdConfigSource(For(etcd, "/t6"));
        await source.StartAsync(runtime, CancellationToken.None);

        // Any exception while applying a watched change, not only a transport error.
        logs.ThrowOnce(line => line.Contains("is in force", StringComparison.Ordinal));
        await client.PutAsync("/t6/services/orders/endpoints/e2", Endpoint("http://127.0.0.1:2"));
        await Eventually.UntilAsync(() => failures.Measurements.Length > 0, "the failure to be counted", Converge);
        await client.PutAsync("/t6/services/orders/endpoints/e3", Endpoint("http://127.0.0.1:3"));

        await Eventually.UntilAsync(() => runtime.Snapshot.Services["orders"].EndpointsById.ContainsKey("e3"), "a change after the failure to arrive", Converge);
        var failure = Assert.Single(failures.Measurements);
        Assert.Equal(source.Name, failure.Tag("mesh.source"));
        Assert.Equal(nameof(InvalidOperationException), failure.Tag("mesh.reason"));
        Assert.Contains(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains(source.Name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Start_EtcdRefusesConnections_CacheInForceWithoutWaitingForTimeout()
    {
        using var cache = new TempFile("mesh-cache.json");
        cache.Write("""{ "services": { "orders": { "endpoints": [ { "id": "cached", "address": "http://127.0.0.1:1" } ] } } }""");
        using var runtime = new MeshRuntime();

        // Far longer than a host waits for the first configuration (the startup hook: 2 s).
        var options = new EtcdProviderOptions { Prefix = "/t7", CacheFile = cache.Path, InitialLoadTimeout = TimeSpan.FromMinutes(10) };
        options.Endpoints.Add("http://127.0.0.1:1");
        await using var source = new EtcdConfigSource(options);

        await source.StartAsync(runtime, CancellationToken.None).WaitAsync(Converge);

        Assert.Equal("cached", Pick(runtime));
        Assert.False(source.Connected);
    }

    [Fact]
    public async Task Restart_EtcdUnreachable_RoutesFromCacheFile()
    {
        using var cache = new TempFile("mesh-cache.json");
        await using (var etcd = await EtcdServer.StartAsync())
        {
            using var client = etcd.Client();
            await client.PutAsync("/t4/services/orders/endpoints/cached", Endpoint("http://127.0.0.1:1"));
            using var first = new MeshRuntime();
            await using var source = new EtcdConfigSource(For(etcd, "/t4", cache.Path));
            await source.StartAsync(first, CancellationToken.None);
            Assert.Equal("cached", Pick(first));
        }

        using var runtime = new MeshRuntime();
        var options = new EtcdProviderOptions { Prefix = "/t4", CacheFile = cache.Path, InitialLoadTimeout = TimeSpan.FromMilliseconds(500) };
        options.Endpoints.Add("http://127.0.0.1:1");
        await using var restarted = new EtcdConfigSource(options);
        await restarted.StartAsync(runtime, CancellationToken.None);

        Assert.Equal("cached", Pick(runtime));
    }

    [Fact]
    public async Task Cluster_LeaderKilledUnderLoad_NoRoutingGap_LaterChangesArrive()
    {
        await using var etcd = await EtcdServer.StartAsync(size: 3);
        await using var backend = await TestBackend.StartAsync("steady");
        using (var client = etcd.Client())
        {
            await client.PutAsync("/t5/services/orders/endpoints/s1", Endpoint(backend.Address));
        }

        using var runtime = new MeshRuntime();
        await using var source = new EtcdConfigSource(For(etcd, "/t5"));
        await source.StartAsync(runtime, CancellationToken.None);
        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);
        using var http = new HttpClient();

        var failures = 0;
        var sent = 0;
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && sent < 5_000)
            {
                try
                {
                    await http.GetStringAsync("http://orders/");
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref failures);
                }

                Interlocked.Increment(ref sent);
            }
        });

        await Eventually.UntilAsync(() => Volatile.Read(ref sent) > 50, "the load to run");
        etcd.Kill(await etcd.LeaderIndexAsync());
        await etcd.WaitHealthyAsync();
        using (var client = etcd.Client())
        {
            await client.PutAsync("/t5/services/orders/endpoints/s2", Endpoint(backend.Address));
        }

        await Eventually.UntilAsync(() => runtime.Snapshot.Services["orders"].EndpointsById.ContainsKey("s2"), "a change after the leader died to arrive", Converge);
        await stop.CancelAsync();
        await load;
        Assert.True(sent > 50);
        Assert.Equal(0, failures);
    }

}
