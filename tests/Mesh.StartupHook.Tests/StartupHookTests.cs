using System.Net;
using Mesh.Providers.Etcd;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.StartupHook.Tests;

/// <summary>Apps built without any reference to Mesh, meshed only by DOTNET_STARTUP_HOOKS and MESH_CONFIG.</summary>
public sealed class StartupHookTests(HookFixture fixture) : IClassFixture<HookFixture>
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    private Dictionary<string, string?> Hooked(string config, string? serviceName = null) => new()
    {
        ["DOTNET_STARTUP_HOOKS"] = fixture.HookPath,
        ["MESH_CONFIG"] = config,
        ["MESH_SERVICE_NAME"] = serviceName,
    };

    [Fact]
    public async Task ConsoleApp_WithHook_CallsRoutedPerRules()
    {
        await using var v1 = await TestBackend.StartAsync("v1");
        await using var v2 = await TestBackend.StartAsync("v2");
        using var config = new TempFile();
        config.Write($$"""
            { "services": { "orders": {
                "endpoints": [ { "id": "v1", "address": "{{v1.Address}}", "tags": { "version": "v1" } },
                               { "id": "v2", "address": "{{v2.Address}}", "tags": { "version": "v2" } } ],
                "policy": { "routes": [ { "name": "beta", "match": { "headers": { "x-user": { "prefix": "beta-" } } },
                                          "destinations": [ { "subset": { "version": "v2" } } ] } ] } } } }
            """);

        await using var plain = AppProcess.Start(fixture.App("PlainClient"), Hooked(config.Path), "4");
        await using var beta = AppProcess.Start(fixture.App("PlainClient"), new Dictionary<string, string?>(Hooked(config.Path)) { ["PLAIN_USER"] = "beta-9" }, "4");
        Assert.Equal(0, await plain.WaitForExitAsync(ExitTimeout));
        Assert.Equal(0, await beta.WaitForExitAsync(ExitTimeout));

        Assert.Equal(["v1", "v1", "v2", "v2"], plain.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        Assert.Equal(["v2", "v2", "v2", "v2"], beta.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task ConsoleAppBuiltForNet8_WithHook_CallsRouted()
    {
        await using var backend = await TestBackend.StartAsync("net8-routed");
        using var config = new TempFile();
        config.Write($$"""{ "services": { "orders": { "endpoints": [ { "id": "e1", "address": "{{backend.Address}}" } ] } } }""");

        // This machine has only the current runtime, so the net8.0 build runs on it by roll-forward, as it does
        // wherever an older app is moved to a newer runtime.
        await using var plain = AppProcess.Start(fixture.App("PlainClient", "net8.0"), new Dictionary<string, string?>(Hooked(config.Path)) { ["DOTNET_ROLL_FORWARD"] = "Major" }, "2");

        Assert.Equal(0, await plain.WaitForExitAsync(ExitTimeout));
        Assert.Equal(["net8-routed", "net8-routed"], plain.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task ConsoleAppShippingOlderDependencies_WithHook_MeshRunsIsolated_BothClientsRouted()
    {
        await using var backend = await TestBackend.StartAsync("isolated-routed");
        using var config = new TempFile();
        config.Write($$"""{ "services": { "orders": { "endpoints": [ { "id": "e1", "address": "{{backend.Address}}" } ] } } }""");

        await using var app = AppProcess.Start(fixture.App("OldDepsClient"), Hooked(config.Path), "2");

        Assert.Equal(0, await app.WaitForExitAsync(ExitTimeout));
        Assert.Equal(["isolated-routed", "isolated-routed", "isolated-routed", "isolated-routed"], app.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Microsoft.Extensions.Logging.Abstractions: app 7.0.0.0, mesh 8.0.0.0", app.Stderr, StringComparison.Ordinal);
        Assert.Contains("load context of its own", app.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConsoleApp_WithHookAndEtcd_RoutesFromEtcd()
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var backend = await TestBackend.StartAsync("from-etcd");
        using (var client = etcd.Client())
        {
            await client.PutAsync("/hook/services/orders/endpoints/e1", $$"""{ "address": "{{backend.Address}}" }""");
        }

        await using var plain = AppProcess.Start(fixture.App("PlainClient"), new Dictionary<string, string?>
        {
            ["DOTNET_STARTUP_HOOKS"] = fixture.HookPath,
            ["MESH_ETCD_ENDPOINTS"] = etcd.Endpoints,
            ["MESH_ETCD_PREFIX"] = "/hook",
        }, "2");

        Assert.Equal(0, await plain.WaitForExitAsync(ExitTimeout));
        Assert.Equal(["from-etcd", "from-etcd"], plain.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task ConsoleApp_WithHookAndScopedEtcd_FirstCallTakesTheServiceIn()
    {
        // MESH_ETCD_SCOPE=called: nothing but the services called is compiled; orders is taken in on its first call
        // from the keys the provider holds, and that call is routed.
        await using var etcd = await EtcdServer.StartAsync();
        await using var backend = await TestBackend.StartAsync("scoped");
        using (var client = etcd.Client())
        {
            await client.PutAsync("/scoped/services/orders/endpoints/e1", $$"""{ "address": "{{backend.Address}}" }""");
            await client.PutAsync("/scoped/services/pay/endpoints/p1", """{ "address": "http://127.0.0.1:1" }""");
        }

        await using var plain = AppProcess.Start(fixture.App("PlainClient"), new Dictionary<string, string?>
        {
            ["DOTNET_STARTUP_HOOKS"] = fixture.HookPath,
            ["MESH_ETCD_ENDPOINTS"] = etcd.Endpoints,
            ["MESH_ETCD_PREFIX"] = "/scoped",
            ["MESH_ETCD_SCOPE"] = "Called",
            ["MESH_LOG_LEVEL"] = "Information",
        }, "2");

        Assert.Equal(0, await plain.WaitForExitAsync(ExitTimeout));
        Assert.Equal(["scoped", "scoped"], plain.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // The first snapshot from etcd holds no service (pay is never called, so never compiled); the call adds orders.
        Assert.Contains("(0 services)", plain.Stderr, StringComparison.Ordinal);
        Assert.Contains("(1 services)", plain.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("(2 services)", plain.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConsoleApp_RestartedDuringEtcdOutage_FirstCallsRouteFromCacheFile()
    {
        await using var backend = await TestBackend.StartAsync("from-cache");
        using var cache = new TempFile("mesh-cache.json");
        cache.Write($$"""{ "services": { "orders": { "endpoints": [ { "id": "cached", "address": "{{backend.Address}}" } ] } } }""");

        // Nothing listens on port 1: every connection to etcd is refused, as when the app restarts while etcd is down.
        // The hook waits 2 s for a first configuration, less than the provider's InitialLoadTimeout.
        await using var plain = AppProcess.Start(fixture.App("PlainClient"), new Dictionary<string, string?>
        {
            ["DOTNET_STARTUP_HOOKS"] = fixture.HookPath,
            ["MESH_ETCD_ENDPOINTS"] = "http://127.0.0.1:1",
            ["MESH_ETCD_CACHE_FILE"] = cache.Path,
        }, "2");

        Assert.Equal(0, await plain.WaitForExitAsync(ExitTimeout));
        Assert.Equal(["from-cache", "from-cache"], plain.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task ConsoleApp_EtcdSettingsBroken_FileSourceStillRoutes_FailureOnStderr()
    {
        await using var backend = await TestBackend.StartAsync("from-file");
        using var config = new TempFile();
        config.Write($$"""{ "services": { "orders": { "endpoints": [ { "id": "f1", "address": "{{backend.Address}}" } ] } } }""");
        var missingCa = Path.Combine(config.Directory, "missing-ca.pem");

        // An https endpoint with a CA file that does not exist: the etcd source throws while it sets up its channel.
        await using var plain = AppProcess.Start(fixture.App("PlainClient"), new Dictionary<string, string?>(Hooked(config.Path))
        {
            ["MESH_ETCD_ENDPOINTS"] = "https://127.0.0.1:1",
            ["MESH_ETCD_CA_FILE"] = missingCa,
        }, "2");

        Assert.Equal(0, await plain.WaitForExitAsync(ExitTimeout));
        Assert.Equal(["from-file", "from-file"], plain.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var failure = Assert.Single(plain.Stderr.Split('\n'), l => l.Contains("failed to start", StringComparison.Ordinal));
        Assert.Contains("etcd https://127.0.0.1:1 /mesh failed to start; the mesh goes on without it", failure, StringComparison.Ordinal);
        Assert.Contains($"etcd CA file {missingCa} could not be loaded", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConsoleApp_WithoutHook_CannotResolveService()
    {
        await using var plain = AppProcess.Start(fixture.App("PlainClient"), new Dictionary<string, string?>(), "1");
        Assert.Equal(0, await plain.WaitForExitAsync(ExitTimeout));
        Assert.StartsWith("error:", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("orders", plain.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConsoleApp_InvalidConfig_AppRunsUnmeshed_ErrorOnStderr()
    {
        using var config = new TempFile();
        config.Write("{ \"services\": { \"orders\": { \"endpoints\": [ { \"id\": \"x\", \"address\": \"not-a-url\" } ] } } }");

        await using var plain = AppProcess.Start(fixture.App("PlainClient"), Hooked(config.Path), "1");

        Assert.Equal(0, await plain.WaitForExitAsync(ExitTimeout));
        Assert.StartsWith("error:", plain.Stdout, StringComparison.Ordinal);
        Assert.Contains("$.services.orders.endpoints[0].address", plain.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConsoleApp_HookWithoutConfig_AppRunsAndSaysMeshIsOff()
    {
        await using var plain = AppProcess.Start(fixture.App("PlainClient"), new Dictionary<string, string?> { ["DOTNET_STARTUP_HOOKS"] = fixture.HookPath }, "1");
        Assert.Equal(0, await plain.WaitForExitAsync(ExitTimeout));
        Assert.Contains("the mesh stays off", plain.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExtensionPackages_CustomExtensionJoins_ThrowingExtensionsIsolated()
    {
        await using var stock = await TestBackend.StartAsync("stock");
        using var config = new TempFile();
        config.Write($$"""{ "services": { "stock": { "endpoints": [ { "id": "s", "address": "{{stock.Address}}" } ] } } }""");
        var folders = string.Join(Path.PathSeparator, fixture.Output("examples/Mesh.Examples.CustomExtension"), fixture.Output("tests/assets/ThrowingExtension"));
        await using var app = AppProcess.Start(fixture.App("PlainWeb"),
            new Dictionary<string, string?>(Hooked(config.Path, "shop")) { ["PLAIN_NAME"] = "shop", ["PLAIN_NEXT"] = "stock", ["MESH_EXTENSIONS_PATH"] = folders },
            "--urls", "http://127.0.0.1:0");
        var address = await app.WaitForAddressAsync();
        using var client = new HttpClient();

        using var ping = await client.GetAsync(address + "/ping");
        using var call = await client.GetAsync(address + "/call");

        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.Equal("shop", ping.Headers.GetValues("x-served-by").Single());
        Assert.Equal("shop > stock", await call.Content.ReadAsStringAsync());
        await Eventually.UntilAsync(() => app.Stderr.Contains("outcome observer fails on purpose", StringComparison.Ordinal), "the observer failure to be reported");
        foreach (var reason in new[] { "constructor fails on purpose", "request handling fails on purpose", "asynchronous request handling fails on purpose" })
        {
            Assert.Contains(reason, app.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ThreeHops_LaneFromFirstCallerOnly_ReachesGrayInstanceOfThirdService()
    {
        // caller --(x-mesh-lane: gray)--> frontend --> orders --> stock: only the first hop carries the header
        // from the test; frontend and orders are plain apps that forward nothing themselves.
        await using var stockBase = await TestBackend.StartAsync("stock-base");
        await using var stockGray = await TestBackend.StartAsync("stock-gray");
        using var config = new TempFile();
        config.Write("{}");
        await using var orders = AppProcess.Start(fixture.App("PlainWeb"),
            new Dictionary<string, string?>(Hooked(config.Path, "orders")) { ["PLAIN_NAME"] = "orders", ["PLAIN_NEXT"] = "stock" }, "--urls", "http://127.0.0.1:0");
        await using var frontend = AppProcess.Start(fixture.App("PlainWeb"),
            new Dictionary<string, string?>(Hooked(config.Path, "frontend")) { ["PLAIN_NAME"] = "frontend", ["PLAIN_NEXT"] = "orders" }, "--urls", "http://127.0.0.1:0");
        var ordersAddress = await orders.WaitForAddressAsync();
        var frontendAddress = await frontend.WaitForAddressAsync();
        config.Write($$"""
            { "services": {
                "orders": { "endpoints": [ { "id": "o1", "address": "{{ordersAddress}}" } ] },
                "stock": { "endpoints": [ { "id": "base", "address": "{{stockBase.Address}}" },
                                          { "id": "gray", "address": "{{stockGray.Address}}", "tags": { "lane": "gray" } } ] } } }
            """);
        using var client = new HttpClient();
        await Eventually.UntilAsync(async () => (await TryGet(client, frontendAddress + "/call", null)) == "frontend > orders > stock-base",
            "both apps to load the rules");

        Assert.Equal("frontend > orders > stock-gray", await TryGet(client, frontendAddress + "/call", "gray"));
        Assert.Equal("gray", stockGray.LastHeaders["x-mesh-lane"]);
        Assert.Equal("orders", stockGray.LastHeaders["x-mesh-caller"]);
        Assert.Equal("frontend > orders > stock-base", await TryGet(client, frontendAddress + "/call", null));
    }

    private Dictionary<string, string?> Registered(EtcdServer etcd, string prefix, string name) => new()
    {
        ["DOTNET_STARTUP_HOOKS"] = fixture.HookPath,
        ["MESH_ETCD_ENDPOINTS"] = etcd.Endpoints,
        ["MESH_ETCD_PREFIX"] = prefix,
        ["MESH_SERVICE_NAME"] = "orders",
        ["MESH_ENDPOINT_ID"] = name,
        ["MESH_LEASE_TTL"] = "2",
        ["MESH_DRAIN_DELAY"] = "1",
        ["PLAIN_NAME"] = name,
    };

    private static async Task<(MeshRuntime Runtime, EtcdConfigSource Source)> Caller(EtcdServer etcd, string prefix)
    {
        var runtime = new MeshRuntime();
        var options = new EtcdProviderOptions { Prefix = prefix };
        options.Endpoints.Add(etcd.ClientUrls[0]);
        var source = new EtcdConfigSource(options);
        await source.StartAsync(runtime, CancellationToken.None);
        return (runtime, source);
    }

    private static int Endpoints(MeshRuntime runtime)
        => runtime.Snapshot.Services.TryGetValue("orders", out var service) ? service.Endpoints.Length : 0;

    [Fact]
    public async Task SelfRegistered_KilledWithSigkill_DisappearsWithinLeaseTtl()
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var app = AppProcess.Start(fixture.App("PlainWeb"), Registered(etcd, "/regkill", "doomed"), "--urls", "http://127.0.0.1:0");
        var (runtime, source) = await Caller(etcd, "/regkill");
        await using var _ = source;
        using var __ = runtime;
        await Eventually.UntilAsync(() => Endpoints(runtime) == 1, "the app to register itself", TimeSpan.FromSeconds(30));

        await app.DisposeAsync(); // SIGKILL: no chance to deregister

        // The lease (2 s) expires and etcd deletes the key; allow for the watch to deliver it.
        await Eventually.UntilAsync(() => Endpoints(runtime) == 0, "the dead instance to leave routing within the lease TTL", TimeSpan.FromSeconds(2 + 3));
    }

    [Fact]
    public async Task SelfRegistered_GracefulStop_RemovedBeforePortCloses_NoFailedCalls()
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var leaving = AppProcess.Start(fixture.App("PlainWeb"), Registered(etcd, "/regstop", "leaving"), "--urls", "http://127.0.0.1:0");
        await using var staying = AppProcess.Start(fixture.App("PlainWeb"), Registered(etcd, "/regstop", "staying"), "--urls", "http://127.0.0.1:0");
        var (runtime, source) = await Caller(etcd, "/regstop");
        await using var _ = source;
        using var __ = runtime;
        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);
        await Eventually.UntilAsync(() => Endpoints(runtime) == 2, "both instances to register", TimeSpan.FromSeconds(30));

        using var client = new HttpClient();
        var answers = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && answers.Count + failures.Count < 20_000)
            {
                try
                {
                    answers.Enqueue(await client.GetStringAsync("http://orders/ping"));
                }
                catch (HttpRequestException ex)
                {
                    failures.Enqueue(ex.Message);
                }
            }
        });
        await Eventually.UntilAsync(() => answers.Contains("leaving") && answers.Contains("staying"), "both instances to serve");

        leaving.Terminate();
        Assert.Equal(0, await leaving.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var afterExit = answers.Count;
        await Eventually.UntilAsync(() => answers.Count > afterExit + 50, "calls to go on after the instance left");
        await stop.CancelAsync();
        await load;

        Assert.Empty(failures);
        Assert.Equal(1, Endpoints(runtime));
        Assert.All(answers.Skip(afterExit), a => Assert.Equal("staying", a));
    }

    private static async Task<string?> TryGet(HttpClient client, string url, string? lane)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (lane is not null)
        {
            request.Headers.Add("x-mesh-lane", lane);
        }

        using var response = await client.SendAsync(request);
        return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : null;
    }
}
