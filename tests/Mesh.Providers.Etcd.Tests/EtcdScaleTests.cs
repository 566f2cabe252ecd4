using Etcdserverpb;
using Google.Protobuf;
using Mesh.Runtime;
using Mesh.Testing;
using static Mesh.Providers.Etcd.Tests.EtcdTestOptions;

namespace Mesh.Providers.Etcd.Tests;

/// <summary>The limits that keep a large or busy mesh moving: isolation per service, paged reads, coalescing, the cache.</summary>
public sealed class EtcdScaleTests
{
    [Fact]
    public async Task InvalidService_KeepsItsLastGood_OtherServicesMoveOn_TakesTheKeysOnceValid()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        await client.PutAsync("/s1/services/pay/endpoints/p1", Endpoint("http://127.0.0.1:1"));
        await client.PutAsync("/s1/services/orders/endpoints/o1", Endpoint("http://127.0.0.1:2"));
        using var runtime = new MeshRuntime();
        await using var source = new EtcdConfigSource(For(etcd, "/s1"));
        await source.StartAsync(runtime, CancellationToken.None);

        // Valid as a key, invalid as a service: pay's only endpoint drained leaves nothing to pick.
        await client.PutAsync("/s1/services/pay/endpoints/p1", Endpoint("http://127.0.0.1:1", """, "weight": 0"""));
        await client.PutAsync("/s1/services/orders/endpoints/o2", Endpoint("http://127.0.0.1:3"));
        await Eventually.UntilAsync(() => runtime.Snapshot.Services["orders"].EndpointsById.ContainsKey("o2"), "orders' change to apply", Converge);

        var rejection = Assert.Single(runtime.RecentRejections, r => r.Source == "/s1/services/pay/endpoints/p1");
        Assert.Contains("total weight", rejection.Error.Message, StringComparison.Ordinal);
        Assert.Equal("p1", Pick(runtime, "pay"));
        Assert.Equal(Mesh.Model.EndpointWeights.Default, runtime.Snapshot.Services["pay"].EndpointsById["p1"].Weight);

        await client.PutAsync("/s1/services/pay/endpoints/p2", Endpoint("http://127.0.0.1:4"));
        await Eventually.UntilAsync(() => runtime.Snapshot.Services["pay"].EndpointsById.ContainsKey("p2"), "pay, valid again, to apply", Converge);
        Assert.Equal(0, runtime.Snapshot.Services["pay"].EndpointsById["p1"].Weight);
        Assert.All(Enumerable.Range(0, 10), _ => Assert.Equal("p2", Pick(runtime, "pay")));
    }

    [Fact]
    public async Task ServiceDifferingOnlyInCase_Refused_TheFirstKeepsRouting()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        await client.PutAsync("/s2/services/orders/endpoints/o1", Endpoint("http://127.0.0.1:1"));
        using var runtime = new MeshRuntime();
        await using var source = new EtcdConfigSource(For(etcd, "/s2"));
        await source.StartAsync(runtime, CancellationToken.None);
        var orders = runtime.Snapshot.Services["orders"];

        await client.PutAsync("/s2/services/ORDERS/endpoints/x1", Endpoint("http://127.0.0.1:2"));
        await client.PutAsync("/s2/services/pay/endpoints/p1", Endpoint("http://127.0.0.1:3"));
        await Eventually.UntilAsync(() => Pick(runtime, "pay") == "p1", "the later key to apply", Converge);

        var rejection = Assert.Single(runtime.RecentRejections, r => r.Source == "/s2/services/ORDERS/endpoints/x1");
        Assert.Contains("differs only in case from service 'orders'", rejection.Error.Message, StringComparison.Ordinal);
        Assert.Equal("o1", Pick(runtime, "ORDERS"));
        Assert.Equal("o1", Pick(runtime, "orders"));

        // The changes to other services left orders' compiled state as it was: the same object, not a recompile.
        Assert.Same(orders, runtime.Snapshot.Services["orders"]);

        // Renamed in one transaction (the old spelling's keys deleted, the new one's written): the new spelling, refused
        // while the old was in force, goes in once the old one is gone.
        await client.TransactionAsync(new TxnRequest
        {
            Success =
            {
                new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("/s2/services/orders/endpoints/o1") } },
                new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("/s2/services/ORDERS/endpoints/x2"), Value = ByteString.CopyFromUtf8(Endpoint("http://127.0.0.1:4")) } },
            },
        });
        await Eventually.UntilAsync(() => runtime.Snapshot.Services.TryGetValue("orders", out var renamed) && renamed.Name == "ORDERS", "the new spelling to take over", Converge);
        Assert.Equal(["x1", "x2"], runtime.Snapshot.Services["ORDERS"].Endpoints.Select(e => e.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Prefix_LargerThanOneGrpcMessage_LoadsInPages_AllEndpointsRoutable()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();

        // 6,000 endpoint keys of about 1 KB: 6 MB, over gRPC's default 4 MB message, and two pages of the provider's read.
        const int Services = 60, PerService = 100;
        var padding = new string('p', 900);
        for (var s = 0; s < Services; s++)
        {
            var txn = new TxnRequest();
            for (var e = 0; e < PerService; e++)
            {
                txn.Success.Add(new RequestOp
                {
                    RequestPut = new PutRequest
                    {
                        Key = ByteString.CopyFromUtf8($"/s3/services/svc-{s}/endpoints/e{e}"),
                        Value = ByteString.CopyFromUtf8(Endpoint($"http://127.0.0.{1 + (e % 200)}:{1000 + s}", $$""", "tags": { "note": "{{padding}}" }""")),
                    },
                });
            }

            await client.TransactionAsync(txn);
        }

        using var runtime = new MeshRuntime();
        await using var source = new EtcdConfigSource(For(etcd, "/s3"));
        await source.StartAsync(runtime, CancellationToken.None);

        Assert.True(source.Connected);
        Assert.Equal(Services, runtime.Snapshot.Services.Count);
        Assert.Equal(Services * PerService, runtime.Snapshot.Services.Values.Sum(s => s.Endpoints.Length));
        Assert.NotNull(Pick(runtime, $"svc-{Services - 1}"));
        Assert.Empty(runtime.RecentRejections);
    }

    [Fact]
    public async Task Burst_ArrivingWhileAnApplyRuns_BecomesOneSwap_NothingLost()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        await client.PutAsync("/s4/services/orders/endpoints/e0", Endpoint("http://127.0.0.1:1"));
        using var runtime = new MeshRuntime();
        await using var source = new EtcdConfigSource(For(etcd, "/s4"));
        await source.StartAsync(runtime, CancellationToken.None);
        var appliesAtStart = source.Applies;

        // Hold the applier inside the next swap (snapshot handlers run on the applying thread) while a burst arrives.
        using var inSwap = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var held = 0;
        runtime.SnapshotChanged += (_, _) =>
        {
            if (Interlocked.Exchange(ref held, 1) == 0)
            {
                inSwap.Set();
                release.Wait(Converge);
            }
        };

        await client.PutAsync("/s4/services/orders/endpoints/e1", Endpoint("http://127.0.0.1:2"));
        Assert.True(inSwap.Wait(Converge), "the first change never reached the runtime");
        const int Burst = 100;
        for (var i = 2; i < 2 + Burst; i++)
        {
            await client.PutAsync($"/s4/services/orders/endpoints/e{i}", Endpoint($"http://127.0.0.1:{i + 1}"));
        }

        await Eventually.UntilAsync(() => source.Events >= 1 + Burst, "the burst to be received", Converge);
        release.Set();
        await Eventually.UntilAsync(() => runtime.Snapshot.Services["orders"].Endpoints.Length == 2 + Burst, "the burst to apply", Converge);

        Assert.Equal(2, source.Applies - appliesAtStart);
    }

    [Fact]
    public async Task Start_EtcdHung_CacheInForceBeforeAnyRead_ThenReconciledWithEtcd()
    {
        using var cache = new TempFile("mesh-cache.json");
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        await client.PutAsync("/s5/services/orders/endpoints/cached", Endpoint("http://127.0.0.1:1"));
        using (var first = new MeshRuntime())
        {
            await using var source = new EtcdConfigSource(For(etcd, "/s5", cache.Path));
            await source.StartAsync(first, CancellationToken.None);
        }

        await client.PutAsync("/s5/services/orders/endpoints/cached", Endpoint("http://127.0.0.1:1", """, "weight": 0"""));
        await client.PutAsync("/s5/services/orders/endpoints/fresh", Endpoint("http://127.0.0.1:2"));
        etcd.PauseAll();
        try
        {
            using var runtime = new MeshRuntime();
            var options = For(etcd, "/s5", cache.Path);
            options.InitialLoadTimeout = TimeSpan.FromMilliseconds(200);
            await using (var restarted = new EtcdConfigSource(options))
            {
                var starting = restarted.StartAsync(runtime, CancellationToken.None);

                // Routed from the very first call, while the member answers nothing.
                Assert.Equal("cached", Pick(runtime));
                await starting.WaitAsync(Converge);
                Assert.Equal("cached", Pick(runtime));

                etcd.ResumeAll();
                await Eventually.UntilAsync(() => Pick(runtime) == "fresh", "etcd's state to replace the cache", Converge);
            }

            // What etcd said is what the next start begins with.
            Assert.Contains("\"fresh\"", File.ReadAllText(cache.Path), StringComparison.Ordinal);
        }
        finally
        {
            etcd.ResumeAll();
        }
    }

    [Fact]
    public async Task Scoped_ServicesNeverCalled_ChangesCauseNoSwap_FirstCallToAnotherServiceRoutes()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        await using var backend = await TestBackend.StartAsync("served");
        const int Services = 100;
        var txn = new TxnRequest();
        for (var s = 0; s < Services; s++)
        {
            var address = s < 3 ? backend.Address : $"http://127.0.0.1:{1000 + s}";
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8($"/s6/services/svc-{s}/endpoints/e1"), Value = ByteString.CopyFromUtf8(Endpoint(address)) } });
        }

        await client.TransactionAsync(txn);
        using var runtime = new MeshRuntime();
        var options = For(etcd, "/s6");
        options.ScopeToCalledServices = true;
        options.Services.Add("svc-0");
        await using var source = new EtcdConfigSource(options);
        await source.StartAsync(runtime, CancellationToken.None);
        Assert.Equal(["svc-0"], runtime.Snapshot.Services.Keys);

        // The first calls to two more services, through a real HttpClient: routed at once, nothing waited for.
        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);
        using var http = new HttpClient();
        Assert.Equal("served", await http.GetStringAsync("http://svc-1/"));
        Assert.Equal("served", await http.GetStringAsync("http://SVC-2/"));
        Assert.Equal(["svc-0", "svc-1", "svc-2"], runtime.Snapshot.Services.Keys.Order(StringComparer.Ordinal));

        var swaps = 0;
        runtime.SnapshotChanged += (_, _) => Interlocked.Increment(ref swaps);
        var eventsBefore = source.Events;
        for (var s = 3; s < Services; s++)
        {
            await client.PutAsync($"/s6/services/svc-{s}/endpoints/e1", Endpoint($"http://127.0.0.1:{2000 + s}"));
        }

        // Then one change to a service it calls: once that is in force, every earlier event has been read.
        await client.PutAsync("/s6/services/svc-1/endpoints/e2", Endpoint(backend.Address));
        await Eventually.UntilAsync(() => runtime.Snapshot.Services["svc-1"].EndpointsById.ContainsKey("e2"), "the called service's change to apply", Converge);

        Assert.Equal(Services - 3 + 1, source.Events - eventsBefore);
        Assert.Equal(1, swaps);
        Assert.Equal(3, runtime.Snapshot.Services.Count);

        // A service left out still answers its first call with what etcd holds now.
        Assert.Equal("e1", Pick(runtime, "svc-50"));
        Assert.Equal(2050, runtime.Snapshot.Services["svc-50"].Endpoints[0].Address.Port);
    }
}
