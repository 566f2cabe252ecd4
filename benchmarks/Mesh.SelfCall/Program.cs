// A web app that serves a tiny response and calls itself with a plain HttpClient: one process on both sides of a hop,
// as a middle tier is. It knows nothing of Mesh; benchmarks/hop.sh runs it with and without the startup hook.
//
//   PORT     the port to listen on (127.0.0.1)
//   TARGET   the URL to call (default http://127.0.0.1:PORT/; http://orders/ is routed by the mesh to this app)
//   CALLS    calls measured after the warm-up (default 40,000), by CALLERS concurrent loops (default 8)
//
// Prints one line: calls, wall time, calls/s, process CPU per call in the measured part (steady state), and the
// process CPU of everything before it (start-up and warm-up); then, for the measured part, first-chance exceptions,
// lock contentions, thread-pool threads, gen0 collections and bytes allocated per call.
using System.Diagnostics;
using System.Globalization;

var port = int.Parse(Environment.GetEnvironmentVariable("PORT") ?? "5099", CultureInfo.InvariantCulture);
var target = new Uri(Environment.GetEnvironmentVariable("TARGET") ?? $"http://127.0.0.1:{port}/");
var calls = int.Parse(Environment.GetEnvironmentVariable("CALLS") ?? "40000", CultureInfo.InvariantCulture);
var callers = int.Parse(Environment.GetEnvironmentVariable("CALLERS") ?? "8", CultureInfo.InvariantCulture);

// First-chance exceptions: one thrown and caught on every call would cost tens of microseconds and show nowhere else.
var exceptions = 0L;
AppDomain.CurrentDomain.FirstChanceException += (_, _) => Interlocked.Increment(ref exceptions);

var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
var app = builder.Build();
app.MapGet("/", () => "ok");
await app.StartAsync();

using var http = new HttpClient();
async Task RunAsync(int count)
{
    var next = -1;
    await Task.WhenAll(Enumerable.Range(0, callers).Select(async _ =>
    {
        while (Interlocked.Increment(ref next) < count)
        {
            using var response = await http.GetAsync(target);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsStringAsync();
        }
    }));
}

await RunAsync(Math.Max(1000, calls / 4));
var process = Process.GetCurrentProcess();
process.Refresh();
var cpuBefore = process.TotalProcessorTime;
var exceptionsBefore = Interlocked.Read(ref exceptions);
var contentionBefore = Monitor.LockContentionCount;
var gcBefore = GC.CollectionCount(0);
var allocatedBefore = GC.GetTotalAllocatedBytes();
var wall = Stopwatch.StartNew();
await RunAsync(calls);
wall.Stop();
process.Refresh();
var cpu = process.TotalProcessorTime - cpuBefore;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"calls {calls} wall_s {wall.Elapsed.TotalSeconds:0.000} rps {calls / wall.Elapsed.TotalSeconds:0} cpu_us_per_call {cpu.TotalMicroseconds / calls:0.00} startup_cpu_ms {cpuBefore.TotalMilliseconds:0} exceptions {Interlocked.Read(ref exceptions) - exceptionsBefore} lock_contentions {Monitor.LockContentionCount - contentionBefore} threads {ThreadPool.ThreadCount} gen0 {GC.CollectionCount(0) - gcBefore} bytes_per_call {(GC.GetTotalAllocatedBytes() - allocatedBefore) / calls}"));
await app.StopAsync();
