// Load-test parts for benchmarks/e2e.sh, all on 127.0.0.1:
//   backend --port-file F [--work-ms N]      tiny HTTP backend (optionally awaiting N ms per request)
//   yarp    --port-file F --upstream URL     a YARP reverse proxy in front of the backend (sidecar stand-in)
//   client  --url URL --seconds S [--concurrency C] [--factory | --addmesh]
//           closed-loop load with C callers for S seconds; prints one line of JSON with requests/s, p50/p99
//           latency, CPU per request and working set of this process. --factory sends through an
//           IHttpClientFactory client of a host without the mesh, --addmesh through one of a host with
//           AddMesh().AddResilience() (MESH_CONFIG); otherwise a plain HttpClient.
//           The line also has settled_* figures: the memory once the load is over and a full GC has run, which
//           compare what a process keeps rather than where its heap happened to be when the load stopped.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Configuration;

var mode = args.Length > 0 ? args[0] : "";
string? Arg(string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
var invariant = CultureInfo.InvariantCulture;

switch (mode)
{
    case "backend":
    {
        var work = int.Parse(Arg("--work-ms") ?? "0", invariant);
        var app = Slim();
        app.MapGet("/", async () =>
        {
            if (work > 0)
            {
                await Task.Delay(work);
            }

            return "ok";
        });
        await RunAsync(app, Arg("--port-file")!);
        break;
    }

    case "yarp":
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "backend", Match = new RouteMatch { Path = "{**rest}" } }],
            [new ClusterConfig { ClusterId = "backend", Destinations = new Dictionary<string, DestinationConfig> { ["b"] = new() { Address = Arg("--upstream")! } } }]);
        var app = builder.Build();
        app.MapReverseProxy();
        await RunAsync(app, Arg("--port-file")!);
        break;
    }

    case "client":
        await ClientAsync(new Uri(Arg("--url")!), double.Parse(Arg("--seconds") ?? "10", invariant), int.Parse(Arg("--concurrency") ?? "8", invariant), args.Contains("--factory") || args.Contains("--addmesh"), args.Contains("--addmesh"));
        break;

    default:
        Console.Error.WriteLine("usage: backend|yarp|client ... (see benchmarks/e2e.sh)");
        return 2;
}

return 0;

static WebApplication Slim()
{
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.UseUrls("http://127.0.0.1:0");
    return builder.Build();
}

static async Task RunAsync(WebApplication app, string portFile)
{
    await app.StartAsync();
    var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
    await File.WriteAllTextAsync(portFile + ".tmp", address);
    File.Move(portFile + ".tmp", portFile, overwrite: true);
    await app.WaitForShutdownAsync();
}

static async Task ClientAsync(Uri url, double seconds, int concurrency, bool factory, bool addMesh)
{
    HttpClient client;
    IHost? host = null;
    if (factory)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddHttpClient();
        if (addMesh)
        {
            builder.Services.AddMesh().AddResilience();
        }

        host = builder.Build();
        await host.StartAsync();
        client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("load");
    }
    else
    {
        client = new HttpClient();
    }

    // Warm-up: connections, JIT, tiering.
    await RunLoad(client, url, TimeSpan.FromSeconds(Math.Min(3, seconds / 3)), concurrency);
    var process = Process.GetCurrentProcess();
    var cpuBefore = process.TotalProcessorTime;
    var latencies = await RunLoad(client, url, TimeSpan.FromSeconds(seconds), concurrency);
    process.Refresh();
    var cpu = process.TotalProcessorTime - cpuBefore;
    latencies.Sort();
    var count = latencies.Count;
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        requests = count,
        rps = count / seconds,
        p50_us = latencies[count / 2] * 1e6 / Stopwatch.Frequency,
        p99_us = latencies[(int)(count * 0.99)] * 1e6 / Stopwatch.Frequency,
        cpu_us_per_request = cpu.TotalMicroseconds / count,
        working_set_mb = process.WorkingSet64 / 1048576.0,
        settled_working_set_mb = SettledWorkingSetMegabytes(process),
    }));
    if (host is not null)
    {
        await host.StopAsync();
    }
}

static double SettledWorkingSetMegabytes(Process process)
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    process.Refresh();
    return process.WorkingSet64 / 1048576.0;
}

static async Task<List<long>> RunLoad(HttpClient client, Uri url, TimeSpan duration, int concurrency)
{
    var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
    var perCaller = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        var latencies = new List<long>(100_000);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var start = Stopwatch.GetTimestamp();
            using var response = await client.GetAsync(url);
            await response.Content.ReadAsByteArrayAsync();
            response.EnsureSuccessStatusCode();
            latencies.Add(Stopwatch.GetTimestamp() - start);
        }

        return latencies;
    }));
    return [.. perCaller.SelectMany(l => l)];
}
