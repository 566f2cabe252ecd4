// Scale of the configuration path, measured on real parts: a real single-member etcd on 127.0.0.1, the etcd
// provider and a bare MeshRuntime, as every meshed process runs them.
//
//   dotnet run -c Release --project benchmarks/Mesh.Scale -- change [services] [endpoints]   one endpoint change: time and allocation
//   dotnet run -c Release --project benchmarks/Mesh.Scale -- churn  [seconds] [puts/s]       rolling deploy at 1,000 x 10
//   dotnet run -c Release --project benchmarks/Mesh.Scale -- start  [services] [endpoints] [value bytes]   start-up from etcd
//
// Figures are printed as one line each; docs/benchmarks.md records them with the command.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf;
using Mesh.Configuration;
using Mesh.Providers.Etcd;
using Mesh.Routing;
using Mesh.Runtime;
using Mesh.Testing;

var mode = args.Length > 0 ? args[0] : "change";
int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;
static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
const string Prefix = "/scale";

switch (mode)
{
    case "change":
        Change(Arg(1, 1000), Arg(2, 10));
        break;
    case "churn":
        await ChurnAsync(Arg(1, 60), Arg(2, 200));
        break;
    case "start":
        await StartAsync(Arg(1, 1000), Arg(2, 100), Arg(3, 0));
        break;
    default:
        Console.Error.WriteLine("modes: change | churn | start");
        return 2;
}

return 0;

static string EndpointValue(int service, int endpoint, int port, int valueBytes)
{
    var value = F($$"""{ "address": "http://127.0.{{service % 250}}.{{1 + (endpoint % 250)}}:{{port}}", "zone": "zone-{{endpoint % 3}}" }""");
    return valueBytes <= value.Length ? value : value[..^2] + F($$""", "tags": { "note": "{{new string('n', valueBytes - value.Length - 20)}}" } }""");
}

static string PolicyValue(int service)
    => F($$"""{ "routes": [ {{string.Join(", ", Enumerable.Range(0, 10).Select(r => F($$"""{ "name": "r{{r}}", "match": { "headers": { "x-r": { "exact": "{{r}}" } } }, "destinations": [ { "subset": { "zone": "zone-{{r % 3}}" } } ] }""")))}} ] }""");

// The provider's own path for one change, without the network: the key into the state, the service's check, the
// document, the runtime's apply (validate, merge, compile, swap). Runs on this thread so allocation is exact.
static void Change(int services, int endpoints)
{
    var keys = new EtcdKeys(Prefix);
    using var runtime = new MeshRuntime();
    var state = new EtcdDocumentState(keys, runtime.Validator);
    var values = Enumerable.Range(0, services).SelectMany(s => Enumerable.Range(0, endpoints)
        .Select(e => (Key: keys.Endpoint($"svc-{s}", $"e{e}"), Value: EndpointValue(s, e, 8000, 0)))
        .Prepend((Key: keys.Policy($"svc-{s}"), Value: PolicyValue(s)))).ToArray();
    var started = Stopwatch.GetTimestamp();
    foreach (var (key, value) in values)
    {
        state.Put(key, value);
    }

    var parsed = Stopwatch.GetElapsedTime(started);
    started = Stopwatch.GetTimestamp();
    state.Commit();
    var committed = Stopwatch.GetElapsedTime(started);
    started = Stopwatch.GetTimestamp();
    runtime.Apply(state.ToDocument(), "full", MeshConfigLayer.Etcd);
    var full = Stopwatch.GetElapsedTime(started);
    Console.WriteLine(F($"first load of {values.Length} keys, cold: parse and check each key {parsed.TotalMilliseconds:0} ms, check each service {committed.TotalMilliseconds:0} ms, apply (validate, compile, swap) {full.TotalMilliseconds:0} ms"));

    // Values parsed up front: what is measured is the mesh's work, not building the test's strings.
    const int Changes = 2000, Warmup = 200;
    var changes = Enumerable.Range(0, Changes + Warmup).Select(i => EndpointValue(i % services, i % endpoints, 9000 + i, 0)).ToArray();
    var times = new double[Changes];
    long allocated = 0;
    var gen0 = 0;
    for (var i = 0; i < Changes + Warmup; i++)
    {
        var key = keys.Endpoint($"svc-{i % services}", $"e{i % endpoints}");
        var before = GC.GetAllocatedBytesForCurrentThread();
        var collections = GC.CollectionCount(0);
        var at = Stopwatch.GetTimestamp();
        state.Put(key, changes[i]);
        state.Commit();
        var doc = state.ToDocument();
        if (runtime.Apply(doc, "change", MeshConfigLayer.Etcd).Count != 0)
        {
            throw new InvalidOperationException("a change was rejected");
        }

        if (i >= Warmup)
        {
            times[i - Warmup] = Stopwatch.GetElapsedTime(at).TotalMilliseconds;
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            gen0 += GC.CollectionCount(0) - collections;
        }
    }

    Array.Sort(times);
    Console.WriteLine(F($"change {services} x {endpoints}: one endpoint change p50 {times[Changes / 2]:0.000} ms, p99 {times[(int)(Changes * 0.99)]:0.000} ms, max {times[^1]:0.000} ms; allocated {allocated / Changes / 1024.0:0.0} KB per change; gen0 GCs {gen0} in {Changes} changes"));
}

// CPU time of the calling thread, from /proc (utime + stime, in clock ticks of 10 ms).
static TimeSpan ThreadCpu()
{
    var stat = File.ReadAllText("/proc/thread-self/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    return TimeSpan.FromMilliseconds(ticks * 10);
}

static async Task<(EtcdServer Etcd, EtcdClient Client, long Bytes)> FillAsync(int services, int endpoints, int valueBytes)
{
    long bytes = 0;
    var etcd = await EtcdServer.StartAsync();
    var client = etcd.Client();
    var txn = new TxnRequest();
    async Task FlushAsync()
    {
        if (txn.Success.Count > 0)
        {
            bytes += txn.Success.Sum(op => (long)op.RequestPut.Key.Length + op.RequestPut.Value.Length);
            await client.TransactionAsync(txn);
            txn = new TxnRequest();
        }
    }

    for (var s = 0; s < services; s++)
    {
        txn.Success.Add(Put(new EtcdKeys(Prefix).Policy($"svc-{s}"), PolicyValue(s)));
        for (var e = 0; e < endpoints; e++)
        {
            txn.Success.Add(Put(new EtcdKeys(Prefix).Endpoint($"svc-{s}", $"e{e}"), EndpointValue(s, e, 8000, valueBytes)));
            if (txn.Success.Count >= 120)
            {
                await FlushAsync();
            }
        }
    }

    await FlushAsync();
    return (etcd, client, bytes);
}

static RequestOp Put(string key, string value)
    => new() { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } };

static EtcdConfigSource Source(EtcdServer etcd)
{
    var options = new EtcdProviderOptions { Prefix = Prefix, InitialLoadTimeout = TimeSpan.FromMinutes(5) };
    options.Endpoints.Add(etcd.ClientUrls[0]);
    return new EtcdConfigSource(options);
}

static async Task StartAsync(int services, int endpoints, int valueBytes)
{
    var (etcd, client, prefixBytes) = await FillAsync(services, endpoints, valueBytes);
    await using var _ = etcd;
    using var __ = client;

    GC.Collect();
    GC.WaitForPendingFinalizers();
    GC.Collect();
    var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
    var started = Stopwatch.GetTimestamp();
    var runtime = new MeshRuntime();
    var source = Source(etcd);
    await source.StartAsync(runtime, CancellationToken.None);
    var request = new TestRequest();
    var routed = runtime.Route($"svc-{services - 1}", ref request, null).Status == RouteStatus.Routed;
    var elapsed = Stopwatch.GetElapsedTime(started);
    var held = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
    var count = runtime.Snapshot.Services.Values.Sum(s => s.Endpoints.Length);
    Console.WriteLine(F($"start {services} x {endpoints} ({prefixBytes / 1024.0 / 1024.0:0.0} MB in etcd): routable {(routed ? "yes" : "NO")} after {elapsed.TotalMilliseconds:0} ms; {count} endpoints; held {held / 1024.0 / 1024.0:0.0} MB = {held / (double)count:0} B per endpoint"));
    GC.KeepAlive(runtime);
    await source.DisposeAsync();
    runtime.Dispose();
}

// A rolling deploy at `rate` puts per second for `seconds`, while one thread routes in a tight loop. Each put moves one
// endpoint to a new port; it is in effect once a snapshot routes to that port. Run twice in the same process: first
// as the control (the same writer and router, the provider stopped, so nothing is applied), then meshed; the mesh's
// background CPU is the difference between the two.
static async Task ChurnAsync(int seconds, int rate)
{
    const int Services = 1000, Endpoints = 10;
    var (etcd, client, _) = await FillAsync(Services, Endpoints, 0);
    await using var _ = etcd;
    using var __ = client;
    using var runtime = new MeshRuntime();
    var source = Source(etcd);
    await source.StartAsync(runtime, CancellationToken.None);
    await source.DisposeAsync();

    var control = await ChurnPhaseAsync(client, runtime, null, seconds, rate, Services, Endpoints);
    Console.WriteLine(F($"control (provider stopped): {control.Puts} puts; routing ({control.Routed:N0} calls) p50 {control.RouteP50:0.00} us, p99 {control.RouteP99:0.00} us, p99.99 {control.RouteP9999:0.0} us, max {control.RouteMax:0.00} ms; CPU besides routing {control.OtherCpu:0.00} core"));

    await using var meshed = Source(etcd);
    await meshed.StartAsync(runtime, CancellationToken.None);
    var churn = await ChurnPhaseAsync(client, runtime, meshed, seconds, rate, Services, Endpoints);
    Console.WriteLine(F($"churn 1000 x 10, {rate} puts/s for {seconds} s: {churn.Puts} puts, {churn.InEffect} seen in effect ({churn.Superseded} superseded by a later put to the same key before they were seen), {churn.Swaps} swaps ({meshed.Applies - 1} applies for {meshed.Events} events); put->in effect p50 {churn.DelayP50:0.0} ms, p99 {churn.DelayP99:0.0} ms, max {churn.DelayMax:0.0} ms"));
    Console.WriteLine(F($"  routing during churn ({churn.Routed:N0} calls): p50 {churn.RouteP50:0.00} us, p99 {churn.RouteP99:0.00} us, p99.99 {churn.RouteP9999:0.0} us, max {churn.RouteMax:0.00} ms; CPU besides routing {churn.OtherCpu:0.00} core, the mesh's share {churn.OtherCpu - control.OtherCpu:0.00} core"));
}

static async Task<ChurnResult> ChurnPhaseAsync(EtcdClient client, MeshRuntime runtime, EtcdConfigSource? source, int seconds, int rate, int services, int endpoints)
{
    var pending = new ConcurrentDictionary<(int Service, int Endpoint), (int Port, long PutAt)>();
    var delays = new ConcurrentBag<double>();
    var swaps = 0;
    void OnSwap(object? sender, MeshSnapshot snapshot)
    {
        swaps++;
        foreach (var ((service, endpoint), (port, putAt)) in pending)
        {
            if (snapshot.Services.TryGetValue($"svc-{service}", out var compiled)
                && compiled.EndpointsById.TryGetValue($"e{endpoint}", out var found) && found.Address.Port == port
                && pending.TryRemove(new KeyValuePair<(int, int), (int, long)>((service, endpoint), (port, putAt))))
            {
                delays.Add(Stopwatch.GetElapsedTime(putAt).TotalMilliseconds);
            }
        }
    }

    runtime.SnapshotChanged += OnSwap;
    using var stop = new CancellationTokenSource();
    var routeTimes = new LatencyHistogram();
    var routerCpu = TimeSpan.Zero;
    var router = new Thread(() =>
    {
        var i = 0;
        while (!stop.IsCancellationRequested)
        {
            var request = new TestRequest();
            var at = Stopwatch.GetTimestamp();
            runtime.Route($"svc-{i++ % 7}", ref request, null);
            routeTimes.Add(Stopwatch.GetTimestamp() - at);
        }

        routerCpu = ThreadCpu();
    }) { IsBackground = true };

    var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    router.Start();
    var puts = 0;
    var superseded = 0;
    var wall = Stopwatch.StartNew();
    var interval = TimeSpan.FromSeconds(1.0 / rate);
    var writers = new List<Task>();
    while (wall.Elapsed < TimeSpan.FromSeconds(seconds))
    {
        // Paced on the wall clock: a slow put does not lower the rate, it overlaps the next.
        var due = interval * puts;
        if (wall.Elapsed < due)
        {
            await Task.Delay(due - wall.Elapsed);
        }

        var service = Random.Shared.Next(services);
        var endpoint = Random.Shared.Next(endpoints);
        var port = 10000 + Random.Shared.Next(50000);
        if (source is not null)
        {
            // A later put to the same key before the first was seen: only the later one can be seen in effect.
            superseded += pending.ContainsKey((service, endpoint)) ? 1 : 0;
            pending[(service, endpoint)] = (port, Stopwatch.GetTimestamp());
        }

        writers.Add(client.PutAsync(new EtcdKeys(Prefix).Endpoint($"svc-{service}", $"e{endpoint}"), EndpointValue(service, endpoint, port, 0)));
        puts++;
    }

    await Task.WhenAll(writers);
    var drainStarted = Stopwatch.StartNew();
    while (!pending.IsEmpty && drainStarted.Elapsed < TimeSpan.FromSeconds(30))
    {
        await Task.Delay(10);
    }

    var elapsed = wall.Elapsed;
    stop.Cancel();
    router.Join();
    var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
    runtime.SnapshotChanged -= OnSwap;

    var sorted = delays.Order().ToArray();
    static double At(double[] values, double q) => values.Length == 0 ? double.NaN : values[Math.Min(values.Length - 1, (int)(q * values.Length))];
    return new ChurnResult(puts, sorted.Length, superseded, swaps, At(sorted, 0.5), At(sorted, 0.99), sorted.Length == 0 ? double.NaN : sorted[^1],
        routeTimes.Count, routeTimes.Micros(0.5), routeTimes.Micros(0.99), routeTimes.Micros(0.9999), routeTimes.MaxMicros / 1000, (cpu - routerCpu).TotalSeconds / elapsed.TotalSeconds);
}

internal sealed record ChurnResult(int Puts, int InEffect, int Superseded, int Swaps, double DelayP50, double DelayP99, double DelayMax,
    long Routed, double RouteP50, double RouteP99, double RouteP9999, double RouteMax, double OtherCpu);

// Route times of one thread, in 10 ns buckets up to 100 us and kept exactly above: a fixed 80 KB however long the run,
// so recording touches no new memory (an array of every sample was gigabytes, and its page faults were the maxima).
internal sealed class LatencyHistogram
{
    private const int BucketNanos = 10;
    private readonly long[] _buckets = new long[10_000];
    private readonly List<long> _slow = [];

    public long Count { get; private set; }

    public double MaxMicros { get; private set; }

    public void Add(long ticks)
    {
        var nanos = ticks * 1_000_000_000 / Stopwatch.Frequency;
        Count++;
        MaxMicros = Math.Max(MaxMicros, nanos / 1000.0);
        if (nanos / BucketNanos < _buckets.Length)
        {
            _buckets[nanos / BucketNanos]++;
        }
        else
        {
            _slow.Add(nanos);
        }
    }

    public double Micros(double quantile)
    {
        var rank = (long)(quantile * Count);
        long seen = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += _buckets[i];
            if (seen > rank)
            {
                return (i + 1) * BucketNanos / 1000.0;
            }
        }

        _slow.Sort();
        return _slow[(int)Math.Min(_slow.Count - 1, rank - seen)] / 1000.0;
    }
}
