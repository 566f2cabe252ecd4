// Load-test parts for benchmarks/e2e.sh, all on 127.0.0.1:
//   backend --port-file F [--work-ms N]      tiny HTTP backend (optionally awaiting N ms per request)
//   yarp    --port-file F --upstream URL     a YARP reverse proxy in front of the backend (sidecar stand-in)
//   client  --url URL [--concurrency C] [--factory | --addmesh]
//           closed-loop load with C callers in windows the caller asks for on stdin (see ServeClientAsync).
//           --factory sends through an IHttpClientFactory client of a host without the mesh, --addmesh through
//           one of a host with AddMesh().AddResilience() (MESH_CONFIG); otherwise a plain HttpClient.
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
        await ServeClientAsync(new Uri(Arg("--url")!), int.Parse(Arg("--concurrency") ?? "8", invariant), args.Contains("--factory") || args.Contains("--addmesh"), args.Contains("--addmesh"));
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

// A client process stays up for the whole comparison, so every mode is measured warm (connections open, tiering
// done) and the modes can take turns in short windows: the machine's drift then hits neighbouring windows alike.
// Commands, one per line on stdin, each answered by one line of JSON on stdout:
//   warm S    run the load for S seconds, unmeasured
//   run S     run the load for S seconds and report requests/s, p50/p99, CPU per request and working set
//   settle    report the working set once a full GC has run
static async Task ServeClientAsync(Uri url, int concurrency, bool factory, bool addMesh)
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

    var process = Process.GetCurrentProcess();
    while (Console.ReadLine() is { } command)
    {
        var parts = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var seconds = parts.Length > 1 ? double.Parse(parts[1], CultureInfo.InvariantCulture) : 0;
        switch (parts.FirstOrDefault())
        {
            case "warm":
                Console.WriteLine(JsonSerializer.Serialize(new { warmed = (await RunLoad(client, url, TimeSpan.FromSeconds(seconds), concurrency)).Count }));
                break;
            case "run":
                process.Refresh();
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
                }));
                break;
            case "settle":
                Console.WriteLine(JsonSerializer.Serialize(new { settled_working_set_mb = SettledWorkingSetMegabytes(process) }));
                break;
            default:
                Console.WriteLine(JsonSerializer.Serialize(new { error = $"unknown command '{command}'" }));
                break;
        }
    }

    if (host is not null)
    {
        await host.StopAsync();
    }
}

// An aggressive collection also gives the heap's free regions back to the system: a plain one leaves each process
// holding whatever its last load happened to grow the heap to, which made identical processes differ by 15 MB.
static double SettledWorkingSetMegabytes(Process process)
{
    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
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
