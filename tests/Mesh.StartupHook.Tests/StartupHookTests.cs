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
