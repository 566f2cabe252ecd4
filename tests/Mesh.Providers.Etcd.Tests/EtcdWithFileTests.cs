using Mesh.Runtime;
using Mesh.Testing;
using static Mesh.Providers.Etcd.Tests.EtcdTestOptions;

namespace Mesh.Providers.Etcd.Tests;

/// <summary>MESH_CONFIG and etcd in one process: the file is the lower layer, etcd the one over it.</summary>
public sealed class EtcdWithFileTests
{
    private const string V1Policy = """{ "routes": [ { "destinations": [ { "subset": { "version": "v1" } } ] } ] }""";

    [Fact]
    public async Task FileAndEtcd_RouteByBoth_EtcdPolicyOverFileEndpoints_EtcdValueRemovedFallsBackToFile()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        await using var v1 = await TestBackend.StartAsync("orders-v1");
        await using var v2 = await TestBackend.StartAsync("orders-v2");
        await using var pricing = await TestBackend.StartAsync("pricing-from-etcd");
        using var file = new TempFile();
        file.Write($$"""
            { "services": { "orders": {
                "endpoints": [ { "id": "v1", "address": "{{v1.Address}}", "tags": { "version": "v1" } },
                               { "id": "v2", "address": "{{v2.Address}}", "tags": { "version": "v2" } } ],
                "policy": {{V1Policy}} } } }
            """);
        await client.PutAsync("/l1/services/pricing/endpoints/p1", Endpoint(pricing.Address));
        using var runtime = new MeshRuntime();
        await using var fileSource = new JsonFileConfigSource(file.Path);
        await using var etcdSource = new EtcdConfigSource(For(etcd, "/l1"));
        await fileSource.StartAsync(runtime, CancellationToken.None);
        await etcdSource.StartAsync(runtime, CancellationToken.None);
        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);
        using var http = new HttpClient();

        Assert.Equal("orders-v1", await http.GetStringAsync("http://orders/"));
        Assert.Equal("pricing-from-etcd", await http.GetStringAsync("http://pricing/"));

        await client.PutAsync("/l1/services/orders/policy", V1Policy.Replace("v1", "v2", StringComparison.Ordinal));
        await Eventually.UntilAsync(() => Pick(runtime) == "v2", "the etcd policy to govern the file's endpoints", Converge);
        Assert.Equal("orders-v2", await http.GetStringAsync("http://orders/"));
        Assert.Equal(2, runtime.Snapshot.Services["orders"].Endpoints.Length);

        await client.DeleteAsync("/l1/services/orders/policy");
        await Eventually.UntilAsync(() => Pick(runtime) == "v1", "the file's policy to be in force again", Converge);
        Assert.Equal("orders-v1", await http.GetStringAsync("http://orders/"));
        Assert.Equal("pricing-from-etcd", await http.GetStringAsync("http://pricing/"));
    }
}
