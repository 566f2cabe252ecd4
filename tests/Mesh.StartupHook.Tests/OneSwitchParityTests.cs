using Mesh.Testing;

namespace Mesh.StartupHook.Tests;

/// <summary>
/// One switch, one behaviour: a web app that adopts the SDK with one call (<c>AddStandardWebMesh()</c>, tests/assets/
/// SdkWeb) gets the same mesh as an app that knows nothing of Mesh under the hook (tests/assets/PlainWeb), from the
/// same environment: rules from etcd (<c>MESH_ETCD_*</c>), factory-client retry past a down instance, the inbound lane
/// carried to the next hop, and self-registration.
/// </summary>
public sealed class OneSwitchParityTests(HookFixture fixture) : IClassFixture<HookFixture>
{
    [Theory]
    [InlineData("sdk")]
    [InlineData("hook")]
    public async Task SameEnvironment_SameMesh(string mode)
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var ordersBase = await TestBackend.StartAsync("orders-base");
        await using var ordersGray = await TestBackend.StartAsync("orders-gray");
        var prefix = "/" + mode;
        await OrdersOnEtcd.PutAsync(etcd, prefix, ordersBase, ordersGray);

        var environment = new Dictionary<string, string?>
        {
            ["MESH_ETCD_ENDPOINTS"] = etcd.Endpoints,
            ["MESH_ETCD_PREFIX"] = prefix,
            ["MESH_SERVICE_NAME"] = "shop",
            ["MESH_ENDPOINT_ID"] = "shop-1",
            ["PLAIN_NAME"] = "shop",
        };
        if (mode == "hook")
        {
            environment["DOTNET_STARTUP_HOOKS"] = fixture.HookPath;
        }

        await using var app = AppProcess.Start(fixture.App(mode == "sdk" ? "SdkWeb" : "PlainWeb"), environment, "--urls", "http://127.0.0.1:0");
        var address = await app.WaitForAddressAsync();
        using var http = new HttpClient();

        // SdkWeb's /call?n=N makes N calls; PlainWeb's /call one, answering "shop > {what answered}".
        async Task<string[]> Calls(int count, string? lane)
        {
            var answers = new List<string>();
            for (var i = 0; i < (mode == "sdk" ? 1 : count); i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, mode == "sdk" ? $"{address}/call?n={count}" : $"{address}/call");
                if (lane is not null)
                {
                    request.Headers.Add("x-mesh-lane", lane);
                }

                using var response = await http.SendAsync(request);
                answers.AddRange((await response.Content.ReadAsStringAsync()).Split('\n').Select(a => a.Replace("shop > ", "", StringComparison.Ordinal)));
            }

            return [.. answers];
        }

        Assert.Equal(Enumerable.Repeat("orders-base", 10), await Calls(10, lane: null));
        Assert.Equal(Enumerable.Repeat("orders-gray", 3), await Calls(3, lane: "gray"));
        await OrdersOnEtcd.WaitForShopRegisteredAsync(etcd, prefix);
    }
}
