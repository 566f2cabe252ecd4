// The Mesh demo: starts frontend, orders (v1, v2, gray), stock (base, gray; HTTP) and pricing (base, gray; gRPC) on
// 127.0.0.1 and routes them by
// mesh rules, showing weighted routing, a header route, a lane across three hops, a live rule change and a failover.
// Two modes: the embedded JSON provider (default; no etcd), or with --etcd, rules and endpoints in the etcd named by
// MESH_ETCD_ENDPOINTS (run-demo.sh --etcd starts one): orders instances register themselves, and rules are changed
// mid-run with meshctl. Unattended; exits non-zero if a scene does not behave as the rules say.
using System.Diagnostics;
using System.Text;
using Mesh.Examples.Demo;

var repo = FindRepositoryRoot();
var configuration = args.Contains("--debug") ? "Debug" : "Release";
string Assembly(string project) => Path.Combine(repo, project == "meshctl" ? "tools" : "examples", project, "bin", configuration, "net10.0", project + ".dll");
var etcd = args.Contains("--etcd")
    ? Environment.GetEnvironmentVariable("MESH_ETCD_ENDPOINTS") is { Length: > 0 } endpoints
        ? endpoints
        : throw new InvalidOperationException("--etcd needs MESH_ETCD_ENDPOINTS (run-demo.sh --etcd starts an etcd and sets it)")
    : null;

var work = Directory.CreateTempSubdirectory("mesh-demo-").FullName;
var meshJson = Path.Combine(work, "mesh.json");
var processes = new List<ServiceProcess>();
var failures = new List<string>();
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

try
{
    Title(etcd is null
        ? "Starting services on 127.0.0.1 (ports chosen by the OS); rules in a JSON file"
        : $"Starting services on 127.0.0.1 (ports chosen by the OS); rules and endpoints in etcd at {etcd}");
    File.WriteAllText(meshJson, "{}");
    ServiceProcess Start(string name, string project, string? serviceName = null, string? tags = null)
    {
        var environment = new Dictionary<string, string>();
        if (etcd is null)
        {
            environment["MESH_CONFIG"] = meshJson;
        }
        else
        {
            // Each meshed instance registers itself under its own id and tags; a stopped one deregisters first.
            environment["MESH_ENDPOINT_ID"] = name;
            environment["MESH_ENDPOINT_TAGS"] = tags ?? "";
            environment["MESH_DRAIN_DELAY"] = "1";
        }

        if (serviceName is not null)
        {
            environment["MESH_SERVICE_NAME"] = serviceName;
        }

        var process = ServiceProcess.Start(name, Assembly(project), work, environment);
        processes.Add(process);
        return process;
    }

    var stock = Start("stock-1", "Mesh.Examples.Stock");
    var stockGray = Start("stock-gray", "Mesh.Examples.Stock");
    var pricing = Start("pricing-1", "Mesh.Examples.Pricing");
    var pricingGray = Start("pricing-gray", "Mesh.Examples.Pricing");
    var v1 = Start("orders-v1", "Mesh.Examples.Orders", "orders", "version=v1");
    var v2 = Start("orders-v2", "Mesh.Examples.Orders", "orders", "version=v2");
    var gray = Start("orders-gray", "Mesh.Examples.Orders", "orders", "version=v2,lane=gray");
    var frontend = Start("frontend", "Mesh.Examples.Frontend", "frontend");
    await Task.WhenAll(processes.Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(60))));
    foreach (var p in processes)
    {
        Console.WriteLine($"  {p.Name,-12} {p.Address}");
    }

    string Policy(int v1Weight, int v2Weight) => $$"""
        {
          "routes": [
            { "name": "beta-users", "match": { "headers": { "x-user": { "prefix": "beta-" } } },
              "destinations": [ { "subset": { "version": "v2" } } ] },
            { "name": "split", "destinations": [ { "subset": { "version": "v1" }, "weight": {{v1Weight}} },
                                                 { "subset": { "version": "v2" }, "weight": {{v2Weight}} } ] }
          ],
          "retry": { "maxAttempts": 3, "on": ["connectFailure", "5xx"] },
          "outlierDetection": { "consecutiveFailures": 1, "ejectionTime": "00:00:30", "maxEjectionPercent": 50 }
        }
        """;

    string LaneEndpoint(ServiceProcess instance, string? lane) => $$"""
        { "id": "{{instance.Name}}", "address": "{{instance.Address}}"{{(lane is null ? "" : $$""", "tags": { "lane": "{{lane}}" }""")}} }
        """;

    // In file mode the whole mesh is one document; in etcd mode orders instances registered themselves, and the stock
    // and pricing endpoints (those services know nothing of Mesh) and the orders policy are written with meshctl.
    async Task SetSplit(int v1Weight, int v2Weight)
    {
        if (etcd is null)
        {
            WriteConfig($$"""
                {
                  "services": {
                    "orders": {
                      "endpoints": [
                        { "id": "orders-v1", "address": "{{v1.Address}}", "tags": { "version": "v1" } },
                        { "id": "orders-v2", "address": "{{v2.Address}}", "tags": { "version": "v2" } },
                        { "id": "orders-gray", "address": "{{gray.Address}}", "tags": { "version": "v2", "lane": "gray" } }
                      ],
                      "policy": {{Policy(v1Weight, v2Weight)}}
                    },
                    "stock": { "endpoints": [ {{LaneEndpoint(stock, null)}}, {{LaneEndpoint(stockGray, "gray")}} ] },
                    "pricing": { "endpoints": [ {{LaneEndpoint(pricing, null)}}, {{LaneEndpoint(pricingGray, "gray")}} ] }
                  }
                }
                """);
            return;
        }

        await MeshCtl("put", "policy", "orders", Document($"orders-{v1Weight}-{v2Weight}.json", Policy(v1Weight, v2Weight)));
    }

    if (etcd is null)
    {
        Console.WriteLine($"  rules: {meshJson}");
    }
    else
    {
        foreach (var (service, instance, instanceLane) in new[] { ("stock", stock, null), ("stock", stockGray, "gray"), ("pricing", pricing, null), ("pricing", pricingGray, "gray") })
        {
            await MeshCtl("put", "endpoint", service, Document($"{instance.Name}.json", LaneEndpoint(instance, instanceLane)));
        }
    }

    await SetSplit(80, 20);
    await WaitUntil(async () => (await Quiet(10)).Count(r => r.StartsWith("orders-", StringComparison.Ordinal)) == 10, "the services to load the rules and endpoints");
    if (etcd is not null)
    {
        await MeshCtl("list");
    }

    Title("1. Weighted routing: rule 'split' sends 80% to v1, 20% to v2");
    var split = await Calls(50);
    Expect(split.Count(r => r.StartsWith("orders-v1", StringComparison.Ordinal)) is >= 30 and <= 48, "about 80% of calls on orders-v1");
    Expect(split.Count(r => r.StartsWith("orders-v2", StringComparison.Ordinal)) is >= 2 and <= 20, "about 20% of calls on orders-v2");
    Expect(split.All(r => !r.Contains("gray", StringComparison.Ordinal)), "no call without a lane reaches a gray instance");

    Title("2. Header route: 'x-user: beta-…' goes to v2 only (rule 'beta-users')");
    var beta = await Calls(6, ("x-user", "beta-42"));
    Expect(beta.All(r => r.StartsWith("orders-v2", StringComparison.Ordinal)), "every beta call on orders-v2");

    Title("3. Lane: 'x-mesh-lane: gray' reaches the gray orders, then the gray stock (HTTP) and gray pricing (gRPC)");
    var lane = await Calls(4, ("x-mesh-lane", "gray"));
    Expect(lane.All(r => r == "orders-gray -> stock-gray [lane gray], pricing-gray [lane gray]"), "every gray call on orders-gray -> stock-gray and pricing-gray");

    Title(etcd is null
        ? "4. Live rule change: edit mesh.json to send 100% to v2 while calls go on, no restart"
        : "4. Live rule change: 'meshctl put policy' sends 100% to v2 while calls go on, no restart");
    var during = await WhileCalling(async () =>
    {
        await SetSplit(0, 100);
        await WaitUntil(async () => (await Quiet(5)).All(r => r.StartsWith("orders-v2", StringComparison.Ordinal)), "the new rule to be in force in every service");
    });
    Console.WriteLine($"  during the change: {Summary(during)}");
    Expect(during.All(r => r.StartsWith("orders-", StringComparison.Ordinal)), "no failed call while the rule changed");
    var shifted = await Calls(10);
    Expect(shifted.All(r => r.StartsWith("orders-v2", StringComparison.Ordinal)), "every call on orders-v2 after the change");

    await SetSplit(50, 50);
    await WaitUntil(async () => (await Quiet(10)).Any(r => r.StartsWith("orders-v1", StringComparison.Ordinal)), "the 50/50 rule to be in force");
    Title("5. Failover: orders-v2 is killed (SIGKILL) while calls go on");
    v2.Kill();
    Console.WriteLine("  orders-v2 killed");
    var failover = await Calls(20);
    var errors = failover.Count(r => r.StartsWith("error", StringComparison.Ordinal));
    Console.WriteLine($"  {errors} of {failover.Count} calls failed at the frontend");
    Expect(errors == 0, "no failed call: the retry went to another endpoint and the dead one was ejected");
    Expect(failover.All(r => !r.StartsWith("orders-v2", StringComparison.Ordinal)), "no call served by the killed orders-v2");
    Expect(failover.Count(r => r.StartsWith("orders-", StringComparison.Ordinal)) == failover.Count, "traffic moved to the instances still running");
    if (etcd is not null)
    {
        Title("6. Scale out and in: orders-v1b starts and registers itself; orders-v1 stops (SIGTERM) while calls go on");
        var v1b = Start("orders-v1b", "Mesh.Examples.Orders", "orders", "version=v1");
        await v1b.WaitReadyAsync(TimeSpan.FromSeconds(60));
        await WaitUntil(async () => (await Quiet(10)).Any(r => r.StartsWith("orders-v1b", StringComparison.Ordinal)), "orders-v1b to be discovered");
        Console.WriteLine("  orders-v1b serves calls: discovered through etcd, no rule edited");
        var stopping = await WhileCalling(async () =>
        {
            v1.Terminate();
            await v1.WaitForExitAsync(TimeSpan.FromSeconds(30));
        });
        Console.WriteLine($"  while orders-v1 stopped: {Summary(stopping)}");
        Expect(stopping.All(r => r.StartsWith("orders-", StringComparison.Ordinal)), "no failed call while orders-v1 deregistered and stopped");
        var after = await Calls(10);
        Expect(after.All(r => r.StartsWith("orders-v1b", StringComparison.Ordinal)), "every call on orders-v1b afterwards");
        await MeshCtl("list", "orders");
    }
}
catch (Exception ex)
{
    failures.Add($"demo aborted: {ex.Message}");
}
finally
{
    foreach (var p in processes)
    {
        p.Dispose();
    }

    Directory.Delete(work, recursive: true);
}

Title(failures.Count == 0 ? "Demo finished: every scene behaved as the rules say" : "Demo finished with problems");
foreach (var failure in failures)
{
    Console.WriteLine($"  FAILED: {failure}");
}

return failures.Count == 0 ? 0 : 1;

async Task<string> Call(params (string Name, string Value)[] headers)
{
    var frontendAddress = processes.Single(p => p.Name == "frontend").Address;
    using var request = new HttpRequestMessage(HttpMethod.Get, frontendAddress + "/");
    foreach (var (name, value) in headers)
    {
        request.Headers.Add(name, value);
    }

    using var response = await http.SendAsync(request);
    return await response.Content.ReadAsStringAsync();
}

async Task<List<string>> Quiet(int count)
{
    var results = new List<string>();
    for (var i = 0; i < count; i++)
    {
        results.Add(await Call());
    }

    return results;
}

// Calls the frontend back to back while the action runs (a rule change, an instance stopping).
async Task<List<string>> WhileCalling(Func<Task> action)
{
    var results = new List<string>();
    using var done = new CancellationTokenSource();
    var caller = Task.Run(async () =>
    {
        while (!done.IsCancellationRequested)
        {
            results.Add(await Call());
        }
    });
    try
    {
        await action();
    }
    finally
    {
        await done.CancelAsync();
        await caller;
    }

    return results;
}

async Task<List<string>> Calls(int count, params (string Name, string Value)[] headers)
{
    var results = new List<string>();
    for (var i = 0; i < count; i++)
    {
        var result = await Call(headers);
        results.Add(result);
        Console.WriteLine($"  call {i + 1,2}: {result}");
    }

    Console.WriteLine($"  => {Summary(results)}");
    return results;
}

static string Summary(List<string> results)
{
    var line = new StringBuilder($"{results.Count} calls: ");
    foreach (var group in results.GroupBy(r => r.Split(' ')[0]).OrderBy(g => g.Key, StringComparer.Ordinal))
    {
        line.Append($"{group.Key} {group.Count()}  ");
    }

    return line.ToString().TrimEnd();
}

string Document(string name, string json)
{
    var path = Path.Combine(work, name);
    File.WriteAllText(path, json);
    return path;
}

// Runs meshctl as an operator would, against the demo's etcd, and shows its output.
async Task MeshCtl(params string[] arguments)
{
    Console.WriteLine($"  $ meshctl {string.Join(' ', arguments.Select(a => a.StartsWith(work, StringComparison.Ordinal) ? Path.GetFileName(a) : a))}");
    var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
    info.ArgumentList.Add(Assembly("meshctl"));
    foreach (var argument in arguments)
    {
        info.ArgumentList.Add(argument);
    }

    using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start meshctl");
    var output = process.StandardOutput.ReadToEndAsync();
    var error = process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    foreach (var text in new[] { await output, await error })
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Console.WriteLine($"    {line}");
        }
    }

    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"meshctl {arguments[0]} failed with exit code {process.ExitCode}");
    }
}

void WriteConfig(string json)
{
    File.WriteAllText(meshJson + ".tmp", json);
    File.Move(meshJson + ".tmp", meshJson, overwrite: true);
}

static async Task WaitUntil(Func<Task<bool>> condition, string what)
{
    var deadline = DateTime.UtcNow.AddSeconds(20);
    while (!await condition())
    {
        if (DateTime.UtcNow > deadline)
        {
            throw new TimeoutException($"timed out waiting for {what}");
        }

        await Task.Delay(50);
    }
}

void Expect(bool condition, string what)
{
    Console.WriteLine(condition ? $"  ok: {what}" : $"  NOT OK: {what}");
    if (!condition)
    {
        failures.Add(what);
    }
}

static void Title(string text) => Console.WriteLine($"\n== {text}");

static string FindRepositoryRoot()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "Mesh.sln")))
        {
            return directory.FullName;
        }
    }

    throw new InvalidOperationException("run the demo from inside the repository (Mesh.sln not found above the program)");
}
