// Propagation delay of a rule change: a put to etcd → the first request routed by it. Starts a real etcd on
// 127.0.0.1, a runtime fed by the etcd provider, then for N updates moves service "orders" to a new endpoint and
// times until a routing decision picks it. Prints p50/p90/p99/max in milliseconds.
using System.Diagnostics;
using System.Globalization;
using Mesh.Providers.Etcd;
using Mesh.Runtime;
using Mesh.Testing;

var updates = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
await using var etcd = await EtcdServer.StartAsync();
using var client = etcd.Client();
await client.PutAsync("/prop/services/orders/endpoints/e", """{ "address": "http://127.0.0.1:10000" }""");
using var runtime = new MeshRuntime();
var options = new EtcdProviderOptions { Prefix = "/prop" };
options.Endpoints.Add(etcd.ClientUrls[0]);
await using var source = new EtcdConfigSource(options);
await source.StartAsync(runtime, CancellationToken.None);

var changed = new SemaphoreSlim(0);
runtime.SnapshotChanged += (_, _) => changed.Release();
var delays = new List<double>();
for (var i = 1; i <= updates; i++)
{
    var port = 10000 + i;
    var started = Stopwatch.GetTimestamp();
    await client.PutAsync("/prop/services/orders/endpoints/e", $$"""{ "address": "http://127.0.0.1:{{port}}" }""");
    while (true)
    {
        var request = new TestRequest();
        if (runtime.Route("orders", ref request, null).Endpoint?.Address.Port == port)
        {
            break;
        }

        await changed.WaitAsync(TimeSpan.FromSeconds(10));
    }

    delays.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
}

delays.Sort();
double At(double q) => delays[Math.Min(delays.Count - 1, (int)(q * delays.Count))];
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"updates: {delays.Count}  p50: {At(0.5):0.00} ms  p90: {At(0.9):0.00} ms  p99: {At(0.99):0.00} ms  max: {delays[^1]:0.00} ms"));
