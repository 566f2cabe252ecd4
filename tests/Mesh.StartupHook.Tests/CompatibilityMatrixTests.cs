using Microsoft.AspNetCore.Http;
using Mesh.Testing;

namespace Mesh.StartupHook.Tests;

/// <summary>
/// The compatibility matrix (docs/compatibility.md): apps that know nothing of Mesh, built outside the repository's
/// package versions with the versions real teams run, attached by the published hook alone (DOTNET_STARTUP_HOOKS
/// and MESH_CONFIG). One instance of every backend service is down (a refused port) while the calls run.
/// </summary>
public sealed class CompatibilityMatrixTests(CompatibilityFixture fixture) : IClassFixture<CompatibilityFixture>
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    public static TheoryData<string, string> WebCells => new()
    {
        { "web-grpc-2.65", "builder" },
        { "web-grpc-2.67", "builder" },
        { "web-grpc-2.71", "builder" },
        { "web-grpc-2.85", "builder" },
        { "web-resilience-8", "builder" },
        { "web-otel", "builder" },
        { "web-plain", "builder" },
        { "web-plain", "slim" },
        { "web-grpc-2.71", "slim" },
    };

    public static TheoryData<string> GrpcCells => ["web-grpc-2.65", "web-grpc-2.67", "web-grpc-2.71", "web-grpc-2.85"];

    public static TheoryData<string, string> WorkerCells => new()
    {
        { "worker-8", "application" },
        { "worker-8", "default" },
        { "worker-10", "application" },
        { "worker-10", "default" },
    };

    [Theory]
    [MemberData(nameof(WebCells))]
    public async Task WebApp_RawRouting_LaneAcrossTwoHops_FactoryRetryWithInstanceDown(string cell, string builder)
    {
        await using var catalog = await TestBackend.StartAsync("catalog");
        await using var ordersBase = await TestBackend.StartAsync("orders-base");
        await using var ordersGray = await TestBackend.StartAsync("orders-gray");
        using var config = Config($$"""
            "catalog": { "endpoints": [ { "id": "c1", "address": "{{catalog.Address}}" } ] },
            "orders": { "endpoints": [ { "id": "base", "address": "{{ordersBase.Address}}" },
                                       { "id": "down", "address": "http://127.0.0.1:{{LoopbackPorts.Free()}}" },
                                       { "id": "gray", "address": "{{ordersGray.Address}}", "tags": { "lane": "gray" } } ],
                        "policy": { "retry": { "maxAttempts": 3, "on": ["connectFailure", "5xx"] } } }
            """);
        await using var app = StartWeb(cell, builder, config.Path);
        var address = await app.WaitForAddressAsync();
        using var client = new HttpClient();

        // A static new HttpClient() to a logical name: routed.
        Assert.Equal(Repeat("catalog", 3), await Lines(client, $"{address}/raw?n=3&service=catalog"));

        // test --(x-mesh-lane: gray)--> app --> orders: the app forwards nothing; the mesh carries the lane.
        using (var gray = new HttpRequestMessage(HttpMethod.Get, $"{address}/raw?n=3&service=orders"))
        {
            gray.Headers.Add("x-mesh-lane", "gray");
            using var response = await client.SendAsync(gray);
            Assert.Equal(Repeat("orders-gray", 3), Split(await response.Content.ReadAsStringAsync()));
        }

        // Factory clients (named and typed) with one of the two base instances down: retried on the other, 0 failed.
        Assert.Equal(Repeat("orders-base", 20), await Lines(client, $"{address}/factory?n=20"));
        Assert.Equal(Repeat("orders-base", 20), await Lines(client, $"{address}/typed?n=20"));
        Assert.DoesNotContain("load context of its own", app.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("failed", app.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("builder")]
    [InlineData("slim")]
    public async Task WebApp_AnyBuilder_GetsInboundAuthorization(string builder)
    {
        // Hooked apps built with CreateSlimBuilder used to get no inbound chain at all (the hosting startup did not
        // reach them): anonymous and forged callers were let through.
        using var config = new TempFile();
        config.Write($$"""
            { "mesh": { "callerSigningKey": "a-signing-key-of-32-characters!!" },
              "services": { "shop": { "endpoints": [ { "id": "self", "address": "http://127.0.0.1:{{LoopbackPorts.Free()}}" } ],
                                      "policy": { "extensions": { "authorization": { "allow": ["frontend"] } } } } } }
            """);
        await using var app = AppProcess.Start(fixture.App("web-plain", "CompatWeb"), Hooked(config.Path, ("COMPAT_BUILDER", builder), ("MESH_SERVICE_NAME", "shop")));
        var address = await app.WaitForAddressAsync();
        using var client = new HttpClient();

        using var anonymous = await client.GetAsync($"{address}/ping");
        using var forged = new HttpRequestMessage(HttpMethod.Get, $"{address}/ping");
        forged.Headers.Add("x-mesh-caller", "frontend");
        using var forgedResponse = await client.SendAsync(forged);

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, anonymous.StatusCode);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, forgedResponse.StatusCode);
    }

    [Fact]
    public async Task WebApp_HostileInboundContext_DroppedAtTheEdge_OutboundCallsGoOn()
    {
        await using var ordersBase = await TestBackend.StartAsync("orders-base");
        await using var ordersGray = await TestBackend.StartAsync("orders-gray");
        using var config = Config($$"""
            "orders": { "endpoints": [ { "id": "base", "address": "{{ordersBase.Address}}" },
                                       { "id": "gray", "address": "{{ordersGray.Address}}", "tags": { "lane": "gray" } } ] }
            """);
        await using var app = StartWeb("web-plain", "builder", config.Path);
        var address = await app.WaitForAddressAsync();

        // A client that sends header values as UTF-8, as a hostile or careless caller can.
        using var client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 });
        async Task<string[]> CallWith(string header, string value)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{address}/factory?n=2");
            request.Headers.TryAddWithoutValidation(header, value);
            using var response = await client.SendAsync(request);
            return Split(await response.Content.ReadAsStringAsync());
        }

        // Each bad value is dropped (the call goes on in the base lane, without it) instead of failing every call
        // the request makes; a good lane next to it still counts.
        Assert.Equal(Repeat("orders-base", 2), await CallWith("x-mesh-lane", "grün"));
        Assert.Equal(Repeat("orders-base", 2), await CallWith("x-mesh-lane", new string('g', 257)));
        Assert.Equal(Repeat("orders-base", 2), await CallWith("baggage", "tenant=münchen"));
        Assert.Equal(Repeat("orders-base", 2), await CallWith("x-mesh-caller", "frontend\u00e9\u0301"));
        Assert.Equal(Repeat("orders-gray", 2), await CallWith("x-mesh-lane", "gray"));
        Assert.DoesNotContain("x-seen-baggage", ordersBase.LastHeaders.Keys);
    }

    [Theory]
    [MemberData(nameof(GrpcCells))]
    public async Task GrpcApp_FactoryClient_RoutedByRuleAndLane(string cell)
    {
        await using var v1 = await GreeterBackend.StartAsync("greeter-v1");
        await using var v2 = await GreeterBackend.StartAsync("greeter-v2");
        await using var gray = await GreeterBackend.StartAsync("greeter-gray");
        using var config = Config($$"""
            "greeter": { "endpoints": [ { "id": "v1", "address": "{{v1.Address}}", "tags": { "version": "v1" } },
                                        { "id": "v2", "address": "{{v2.Address}}", "tags": { "version": "v2" } },
                                        { "id": "gray", "address": "{{gray.Address}}", "tags": { "version": "v2", "lane": "gray" } } ],
                         "policy": { "routes": [ { "name": "hello-to-v2", "match": { "path": { "prefix": "/greet.Greeter/SayHello" } },
                                                   "destinations": [ { "subset": { "version": "v2" } } ] } ] } }
            """);
        await using var app = StartWeb(cell, "builder", config.Path);
        var address = await app.WaitForAddressAsync();
        using var client = new HttpClient();

        // AddGrpcClient to http://greeter: the rule sends SayHello to v2 only (never v1; the gray v2 only in its lane).
        Assert.Equal(Repeat("greeter-v2", 4), await Lines(client, $"{address}/grpc?n=4"));
        using var inLane = new HttpRequestMessage(HttpMethod.Get, $"{address}/grpc?n=4");
        inLane.Headers.Add("x-mesh-lane", "gray");
        using var response = await client.SendAsync(inLane);
        Assert.Equal(Repeat("greeter-gray", 4), Split(await response.Content.ReadAsStringAsync()));
    }

    [Theory]
    [InlineData("web-grpc-2.65")]
    [InlineData("web-grpc-2.71")]
    public async Task GrpcApp_OnEtcd_ProviderWithItsOwnGrpcAndProtobuf_RoutesAndRegisters(string cell)
    {
        // The etcd provider needs Grpc.Net.Client and Google.Protobuf 3.36 (the app ships 3.27 or 3.30): they load in
        // the etcd component's context, the app keeps its own, and the whole mesh runs.
        await using var etcd = await EtcdServer.StartAsync();
        await using var ordersBase = await TestBackend.StartAsync("orders-base");
        await using var ordersGray = await TestBackend.StartAsync("orders-gray");
        var prefix = "/" + cell;
        await OrdersOnEtcd.PutAsync(etcd, prefix, ordersBase, ordersGray);

        await using var app = AppProcess.Start(fixture.App(cell, "CompatWeb"), new Dictionary<string, string?>
        {
            ["DOTNET_STARTUP_HOOKS"] = fixture.HookPath,
            ["MESH_ETCD_ENDPOINTS"] = etcd.Endpoints,
            ["MESH_ETCD_PREFIX"] = prefix,
            ["MESH_SERVICE_NAME"] = "shop",
            ["MESH_ENDPOINT_ID"] = "shop-1",
            ["MESH_LOG_LEVEL"] = "Debug",
            ["COMPAT_NAME"] = cell,
        });
        var address = await app.WaitForAddressAsync();
        using var http = new HttpClient();

        Assert.Equal(Repeat("orders-base", 10), await Lines(http, $"{address}/typed?n=10"));
        using (var gray = new HttpRequestMessage(HttpMethod.Get, $"{address}/raw?n=2"))
        {
            gray.Headers.Add("x-mesh-lane", "gray");
            using var response = await http.SendAsync(gray);
            Assert.Equal(Repeat("orders-gray", 2), Split(await response.Content.ReadAsStringAsync()));
        }

        await OrdersOnEtcd.WaitForShopRegisteredAsync(etcd, prefix);

        Assert.DoesNotContain("load context of its own", app.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("failed", app.Stderr, StringComparison.OrdinalIgnoreCase);
        var privately = Assert.Single(app.Stderr.Split('\n'), l => l.StartsWith("[mesh] etcd runs with its own", StringComparison.Ordinal));
        Assert.Contains("Google.Protobuf", privately, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GrpcApp_CustomExtensionWithNewerProtobufThanTheApp_RunsInItsOwnContext()
    {
        // The app (Grpc.AspNetCore 2.65) ships Google.Protobuf 3.27; the extension package needs 3.36.
        await using var orders = await TestBackend.StartAsync("orders");
        orders.Handler = context => context.Response.WriteAsync(context.Request.Headers["x-protobuf-stamp"].ToString());
        using var config = Config($$""" "orders": { "endpoints": [ { "id": "o1", "address": "{{orders.Address}}" } ] } """);
        await using var app = StartWeb("web-grpc-2.65", "builder", config.Path, ("MESH_EXTENSIONS_PATH", fixture.Output("tests/assets/ProtobufExtension")));
        var address = await app.WaitForAddressAsync();
        using var client = new HttpClient();

        var stamp = Assert.Single(await Lines(client, $"{address}/typed?n=1"));
        Assert.Equal("\"1.500s\" 3.36.2.0", stamp);
        Assert.DoesNotContain("protobuf", app.Stderr, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ResilienceApp_StandardResilienceHandlerWins_NoDoubleRetry()
    {
        await using var failing = await TestBackend.StartAsync("failing");
        failing.AnswerWith(503);
        using var config = Config($$"""
            "orders": { "endpoints": [ { "id": "f", "address": "{{failing.Address}}" } ],
                        "policy": { "retry": { "maxAttempts": 3, "on": ["5xx"], "budgetPercent": 100 } } }
            """);
        await using var app = StartWeb("web-resilience-8", "builder", config.Path);
        var address = await app.WaitForAddressAsync();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        // The app's standard handler re-sends (1 + 3 attempts, with its own back-off); the mesh's retry (3 attempts)
        // stays off that client: 4 requests, where both at once would make 12.
        Assert.Equal(["FAIL 503"], await Lines(client, $"{address}/std?n=1"));
        Assert.Equal(4, failing.Requests);
    }

    [Fact]
    public async Task ResilienceApp_StandardResilienceHandlerRetries_EveryReSendRoutedAnew_ZeroFailedWithInstanceDown()
    {
        await using var ordersBase = await TestBackend.StartAsync("orders-base");
        using var config = Config($$"""
            "orders": { "endpoints": [ { "id": "base", "address": "{{ordersBase.Address}}" }, { "id": "down", "address": "http://127.0.0.1:{{LoopbackPorts.Free()}}" } ] }
            """);
        await using var app = StartWeb("web-resilience-8", "builder", config.Path);
        var address = await app.WaitForAddressAsync();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };

        // Round robin sends every other first attempt to the instance that is down; the app's re-send of the same
        // message is routed again, to the other instance, instead of to the address of the one that just failed.
        Assert.Equal(Repeat("orders-base", 6), await Lines(client, $"{address}/std?n=6"));
    }

    [Theory]
    [MemberData(nameof(WorkerCells))]
    public async Task WorkerService_TypedClientRetriedWithInstanceDown(string cell, string builder)
    {
        await using var ordersBase = await TestBackend.StartAsync("orders-base");
        using var config = Config($$"""
            "orders": { "endpoints": [ { "id": "base", "address": "{{ordersBase.Address}}" }, { "id": "down", "address": "http://127.0.0.1:{{LoopbackPorts.Free()}}" } ],
                        "policy": { "retry": { "maxAttempts": 3, "on": ["connectFailure", "5xx"] } } }
            """);
        await using var worker = AppProcess.Start(fixture.App(cell, "CompatWorker"), Hooked(config.Path, ("COMPAT_BUILDER", builder), ("COMPAT_CALLS", "20")));

        Assert.Equal(0, await worker.WaitForExitAsync(ExitTimeout));
        var lines = Split(worker.Stdout);
        Assert.Equal(Repeat("typed orders-base", 20), lines.Where(l => l.StartsWith("typed ", StringComparison.Ordinal)));
        Assert.Equal(Repeat("polly orders-base", 20), lines.Where(l => l.StartsWith("polly ", StringComparison.Ordinal)));
        Assert.Equal("done", lines[^1]);
    }

    [Theory]
    [InlineData("worker-8")]
    [InlineData("worker-10")]
    public async Task WorkerService_AppPollyPolicyWins_MeshRetriesOnlyClientsWithoutOne(string cell)
    {
        await using var failing = await TestBackend.StartAsync("failing");
        failing.AnswerWith(503);
        using var config = Config($$"""
            "orders": { "endpoints": [ { "id": "f", "address": "{{failing.Address}}" } ], "policy": { "retry": { "maxAttempts": 3, "on": ["5xx"], "budgetPercent": 100 } } }
            """);
        await using var worker = AppProcess.Start(fixture.App(cell, "CompatWorker"), Hooked(config.Path, ("COMPAT_CALLS", "5")));

        Assert.Equal(0, await worker.WaitForExitAsync(ExitTimeout));
        var lines = Split(worker.Stdout);
        Assert.Equal(Repeat("typed FAIL 503", 5), lines.Where(l => l.StartsWith("typed ", StringComparison.Ordinal)));
        Assert.Equal(Repeat("polly FAIL 503", 5), lines.Where(l => l.StartsWith("polly ", StringComparison.Ordinal)));

        // Typed client: at most the mesh's 3 attempts. Polly client: at most the app's 1 + 2 retries, not 3 x 3 (both
        // policies at once would make 5 x 9 = 45 of the polly calls alone).
        Assert.InRange(failing.Requests, (5 * 2) + (5 * 3), (5 * 3) + (5 * 3));
    }

    [Fact]
    public async Task ConsoleAppOnExtensions8_RawAndFactoryClientsRouted()
    {
        await using var orders = await TestBackend.StartAsync("orders");
        using var config = Config($$""" "orders": { "endpoints": [ { "id": "o1", "address": "{{orders.Address}}" } ] } """);
        await using var console = AppProcess.Start(fixture.App("console-8", "CompatConsole"), Hooked(config.Path, ("COMPAT_CALLS", "3")));

        Assert.Equal(0, await console.WaitForExitAsync(ExitTimeout));
        Assert.Equal([.. Repeat("raw orders", 3), .. Repeat("factory orders", 3)], Split(console.Stdout));
        Assert.DoesNotContain("[mesh]", console.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OtelApp_TracingKeepsWorking_CallsStillRouted()
    {
        await using var orders = await TestBackend.StartAsync("orders");
        using var config = Config($$""" "orders": { "endpoints": [ { "id": "o1", "address": "{{orders.Address}}" } ] } """);
        await using var app = StartWeb("web-otel", "builder", config.Path);
        var address = await app.WaitForAddressAsync();
        using var client = new HttpClient();

        Assert.Equal(Repeat("orders", 3), await Lines(client, $"{address}/raw?n=3"));
        Assert.Equal(Repeat("orders", 3), await Lines(client, $"{address}/typed?n=3"));

        // The app's own tracing saw its inbound requests and each of the 6 outbound calls once.
        string counts = "";
        await Eventually.UntilAsync(async () => (counts = await client.GetStringAsync($"{address}/otel")).EndsWith(" client=6", StringComparison.Ordinal), "the app's spans to be counted");
        Assert.True(int.Parse(counts.Split(' ')[0]["server=".Length..], System.Globalization.CultureInfo.InvariantCulture) >= 2, counts);
    }

    private static TempFile Config(string services)
    {
        var config = new TempFile();
        config.Write($$"""{ "services": { {{services}} } }""");
        return config;
    }

    private AppProcess StartWeb(string cell, string builder, string config, params (string Key, string Value)[] more)
        => AppProcess.Start(fixture.App(cell, "CompatWeb"), Hooked(config, [("COMPAT_NAME", cell), ("COMPAT_BUILDER", builder), .. more]));

    private Dictionary<string, string?> Hooked(string config, params (string Key, string Value)[] more)
    {
        var environment = new Dictionary<string, string?> { ["DOTNET_STARTUP_HOOKS"] = fixture.HookPath, ["MESH_CONFIG"] = config };
        foreach (var (key, value) in more)
        {
            environment[key] = value;
        }

        return environment;
    }

    private static async Task<string[]> Lines(HttpClient client, string url) => Split(await client.GetStringAsync(url));

    private static string[] Split(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string[] Repeat(string line, int count) => Enumerable.Repeat(line, count).ToArray();
}
