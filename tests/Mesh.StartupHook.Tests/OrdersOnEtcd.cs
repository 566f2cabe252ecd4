using Mesh.Testing;

namespace Mesh.StartupHook.Tests;

/// <summary>
/// The etcd scenario the hook and the SDK are held to: service <c>orders</c> with a base instance, one that is down
/// (a refused port) and a gray-lane instance, retried on connect failures and 5xx; and the app registering itself
/// as <c>shop</c>.
/// </summary>
internal static class OrdersOnEtcd
{
    public static async Task PutAsync(EtcdServer etcd, string prefix, TestBackend ordersBase, TestBackend ordersGray)
    {
        using var client = etcd.Client();
        await client.PutAsync($"{prefix}/services/orders/endpoints/base", $$"""{ "address": "{{ordersBase.Address}}" }""");
        await client.PutAsync($"{prefix}/services/orders/endpoints/down", $$"""{ "address": "http://127.0.0.1:{{LoopbackPorts.Free()}}" }""");
        await client.PutAsync($"{prefix}/services/orders/endpoints/gray", $$"""{ "address": "{{ordersGray.Address}}", "tags": { "lane": "gray" } }""");
        await client.PutAsync($"{prefix}/services/orders/policy", """{ "retry": { "maxAttempts": 3, "on": ["connectFailure", "5xx"] } }""");
    }

    /// <summary>Waits until the app has registered itself as an endpoint of <c>shop</c>.</summary>
    public static async Task WaitForShopRegisteredAsync(EtcdServer etcd, string prefix)
    {
        using var client = etcd.Client();
        await Eventually.UntilAsync(async () => (await client.GetRangeAsync($"{prefix}/services/shop/endpoints/")).Kvs.Count == 1, "the app to register itself");
    }
}
