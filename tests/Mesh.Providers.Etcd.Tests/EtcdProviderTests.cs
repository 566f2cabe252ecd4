using Mesh.Providers.Etcd;
using Mesh.Routing;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Providers.Etcd.Tests;

public sealed class EtcdProviderTests
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(20);

    private static EtcdProviderOptions Options(EtcdServer etcd, string prefix, string? cache = null)
    {
        var options = new EtcdProviderOptions { Prefix = prefix, CacheFile = cache, MaxBackoff = TimeSpan.FromMilliseconds(500) };
        foreach (var url in etcd.ClientUrls)
        {
            options.Endpoints.Add(url);
        }

        return options;
    }

    private static string Endpoint(string id, string address, string extra = "") => $$"""{ "address": "{{address}}"{{extra}} }""";

    private static string? Pick(MeshRuntime runtime, string service = "orders")
    {
        var request = new TestRequest();
        var decision = runtime.Route(service, ref request, null);
        return decision.Status == RouteStatus.Routed ? decision.Endpoint!.Id : null;
    }

    [Fact]
    public async Task PutAndDelete_TakeEffectForNextRequests()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        await using var backend = await TestBackend.StartAsync("b1");
        await client.PutAsync("/t1/services/orders/endpoints/e1", Endpoint("e1", backend.Address));
        using var runtime = new MeshRuntime();
        await using var source = new EtcdConfigSource(Options(etcd, "/t1"));
        await source.StartAsync(runtime, CancellationToken.None);
        Assert.Equal("e1", Pick(runtime));

        // Through a real HttpClient, too.
        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);
        using var http = new HttpClient();
        Assert.Equal("b1", await http.GetStringAsync("http://orders/"));

        await client.PutAsync("/t1/services/orders/endpoints/e2", Endpoint("e2", backend.Address, """, "tags": { "version": "v2" }"""));
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
        await client.PutAsync("/t2/services/orders/endpoints/good", Endpoint("good", "http://127.0.0.1:1"));
        using var runtime = new MeshRuntime();
        await using var source = new EtcdConfigSource(Options(etcd, "/t2"));
        await source.StartAsync(runtime, CancellationToken.None);

        await client.PutAsync("/t2/services/orders/policy", "{ \"routes\": [ ");
        await client.PutAsync("/t2/services/orders/endpoints/typed", """{ "address": "http://127.0.0.1:2", "weight": "heavy" }""");
        await client.PutAsync("/t2/services/orders/endpoints/huge", new string('x', Mesh.Configuration.MeshJson.MaxDocumentLength + 10));
        await client.PutAsync("/t2/services/orders/endpoints/late", Endpoint("late", "http://127.0.0.1:3"));
        await Eventually.UntilAsync(() => runtime.Snapshot.Services.TryGetValue("orders", out var s) && s.EndpointsById.ContainsKey("late"),
            "the good key after the bad ones to apply", Converge);

        var rejections = runtime.RecentRejections;
        Assert.Contains(rejections, r => r.Source == "/t2/services/orders/policy");
        Assert.Contains(rejections, r => r.Source == "/t2/services/orders/endpoints/typed" && r.Error.Path == "$.weight");
        Assert.Contains(rejections, r => r.Source == "/t2/services/orders/endpoints/huge" && r.Error.Message.Contains("over the limit", StringComparison.Ordinal));
        Assert.Equal(["good", "late"], runtime.Snapshot.Services["orders"].Endpoints.Select(e => e.Id).Order());

        // A bad edit of a key that was good keeps the key's last good value.
        await client.PutAsync("/t2/services/orders/endpoints/good", """{ "address": "ftp://nowhere" }""");
        await client.PutAsync("/t2/services/orders/endpoints/marker", Endpoint("marker", "http://127.0.0.1:4"));
        await Eventually.UntilAsync(() => runtime.Snapshot.Services["orders"].EndpointsById.ContainsKey("marker"), "the marker to apply", Converge);
        Assert.Equal("http://127.0.0.1:1/", runtime.Snapshot.Services["orders"].EndpointsById["good"].Address.ToString());
    }

    [Fact]
    public async Task EtcdDown_RoutingContinues_EtcdBackWithChangesAndCompaction_Converges()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var runtime = new MeshRuntime();
        using (var client = etcd.Client())
        {
            await client.PutAsync("/t3/services/orders/endpoints/before", Endpoint("before", "http://127.0.0.1:1"));
        }

        await using var source = new EtcdConfigSource(Options(etcd, "/t3"));
        await source.StartAsync(runtime, CancellationToken.None);
        Assert.Equal("before", Pick(runtime));

        etcd.KillAll();
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
                await client.PutAsync($"/t3/services/orders/endpoints/after{i}", Endpoint($"after{i}", "http://127.0.0.1:2"));
            }

            var revision = (await client.GetAsync("/t3/")).Header.Revision;
            await client.CompactAsync(new Etcdserverpb.CompactionRequest { Revision = revision });
        }

        await Eventually.UntilAsync(() => Pick(runtime) is { } id && id.StartsWith("after", StringComparison.Ordinal)
            && runtime.Snapshot.Services["orders"].Endpoints.Length == 5, "the client to converge on the new state", Converge);
    }

    [Fact]
    public async Task Restart_EtcdUnreachable_RoutesFromCacheFile()
    {
        using var cache = new TempFile("mesh-cache.json");
        await using (var etcd = await EtcdServer.StartAsync())
        {
            using var client = etcd.Client();
            await client.PutAsync("/t4/services/orders/endpoints/cached", Endpoint("cached", "http://127.0.0.1:1"));
            using var first = new MeshRuntime();
            await using var source = new EtcdConfigSource(Options(etcd, "/t4", cache.Path));
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
            await client.PutAsync("/t5/services/orders/endpoints/s1", Endpoint("s1", backend.Address));
        }

        using var runtime = new MeshRuntime();
        await using var source = new EtcdConfigSource(Options(etcd, "/t5"));
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
            await client.PutAsync("/t5/services/orders/endpoints/s2", Endpoint("s2", backend.Address));
        }

        await Eventually.UntilAsync(() => runtime.Snapshot.Services["orders"].EndpointsById.ContainsKey("s2"), "a change after the leader died to arrive", Converge);
        await stop.CancelAsync();
        await load;
        Assert.True(sent > 50);
        Assert.Equal(0, failures);
    }

}
