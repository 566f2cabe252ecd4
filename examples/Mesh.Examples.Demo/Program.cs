// The Mesh demo: starts frontend, orders (v1, v2, gray) and stock (base, gray) on 127.0.0.1, routes them with the
// embedded JSON provider (no etcd), and shows weighted routing, a header route, a lane across three hops, a live
// rule change and a failover. Unattended; exits non-zero if a scene does not behave as the rules say.
using System.Text;
using Mesh.Examples.Demo;

var repo = FindRepositoryRoot();
var configuration = args.Contains("--debug") ? "Debug" : "Release";
string Assembly(string project) => Path.Combine(repo, "examples", project, "bin", configuration, "net10.0", project + ".dll");

var work = Directory.CreateTempSubdirectory("mesh-demo-").FullName;
var meshJson = Path.Combine(work, "mesh.json");
var processes = new List<ServiceProcess>();
var failures = new List<string>();
using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

try
{
    Title("Starting services on 127.0.0.1 (ports chosen by the OS)");
    File.WriteAllText(meshJson, "{}");
    ServiceProcess Start(string name, string project, string? serviceName = null)
    {
        var environment = new Dictionary<string, string> { ["MESH_CONFIG"] = meshJson };
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
    var v1 = Start("orders-v1", "Mesh.Examples.Orders", "orders");
    var v2 = Start("orders-v2", "Mesh.Examples.Orders", "orders");
    var gray = Start("orders-gray", "Mesh.Examples.Orders", "orders");
    var frontend = Start("frontend", "Mesh.Examples.Frontend", "frontend");
    await Task.WhenAll(processes.Select(p => p.WaitReadyAsync(TimeSpan.FromSeconds(60))));
    foreach (var p in processes)
    {
        Console.WriteLine($"  {p.Name,-12} {p.Address}");
    }

    string Config(int v1Weight, int v2Weight) => $$"""
        {
          "services": {
            "orders": {
              "endpoints": [
                { "id": "orders-v1", "address": "{{v1.Address}}", "tags": { "version": "v1" } },
                { "id": "orders-v2", "address": "{{v2.Address}}", "tags": { "version": "v2" } },
                { "id": "orders-gray", "address": "{{gray.Address}}", "tags": { "version": "v2", "lane": "gray" } }
              ],
              "policy": {
                "routes": [
                  { "name": "beta-users", "match": { "headers": { "x-user": { "prefix": "beta-" } } },
                    "destinations": [ { "subset": { "version": "v2" } } ] },
                  { "name": "split", "destinations": [ { "subset": { "version": "v1" }, "weight": {{v1Weight}} },
                                                       { "subset": { "version": "v2" }, "weight": {{v2Weight}} } ] }
                ],
                "retry": { "maxAttempts": 3, "on": ["connectFailure", "5xx"] },
                "outlierDetection": { "consecutiveFailures": 1, "ejectionTime": "00:00:30", "maxEjectionPercent": 50 }
              }
            },
            "stock": {
              "endpoints": [
                { "id": "stock-1", "address": "{{stock.Address}}" },
                { "id": "stock-gray", "address": "{{stockGray.Address}}", "tags": { "lane": "gray" } }
              ]
            }
          }
        }
        """;

    Console.WriteLine($"  rules: {meshJson}");
    WriteConfig(Config(80, 20));
    await WaitForRouting();

    Title("1. Weighted routing: rule 'split' sends 80% to v1, 20% to v2");
    var split = await Calls(50);
    Expect(split.Count(r => r.StartsWith("orders-v1", StringComparison.Ordinal)) is >= 30 and <= 48, "about 80% of calls on orders-v1");
    Expect(split.Count(r => r.StartsWith("orders-v2", StringComparison.Ordinal)) is >= 2 and <= 20, "about 20% of calls on orders-v2");
    Expect(split.All(r => !r.Contains("gray", StringComparison.Ordinal)), "no call without a lane reaches a gray instance");

    Title("2. Header route: 'x-user: beta-…' goes to v2 only (rule 'beta-users')");
    var beta = await Calls(6, ("x-user", "beta-42"));
    Expect(beta.All(r => r.StartsWith("orders-v2", StringComparison.Ordinal)), "every beta call on orders-v2");

    Title("3. Lane: 'x-mesh-lane: gray' reaches the gray orders AND the gray stock (lane carried across hops)");
    var lane = await Calls(4, ("x-mesh-lane", "gray"));
    Expect(lane.All(r => r == "orders-gray -> stock-gray [lane gray]"), "every gray call on orders-gray -> stock-gray");

    Title("4. Live rule change: edit mesh.json to send 100% to v2, no restart");
    WriteConfig(Config(0, 100));
    await WaitUntil(async () => (await Quiet(5)).All(r => r.StartsWith("orders-v2", StringComparison.Ordinal)), "the new rule to be in force in every service");
    var shifted = await Calls(10);
    Expect(shifted.All(r => r.StartsWith("orders-v2", StringComparison.Ordinal)), "every call on orders-v2 after the edit");

    Title("5. Failover: back to 50/50, then orders-v2 is killed (SIGKILL) while calls go on");
    WriteConfig(Config(50, 50));
    await WaitUntil(async () => (await Quiet(10)).Any(r => r.StartsWith("orders-v1", StringComparison.Ordinal)), "the 50/50 rule to be in force");
    v2.Kill();
    Console.WriteLine("  orders-v2 killed");
    var failover = await Calls(20);
    var errors = failover.Count(r => r.StartsWith("error", StringComparison.Ordinal));
    Console.WriteLine($"  {errors} of {failover.Count} calls failed at the frontend");
    Expect(errors == 0, "no failed call: the retry went to another endpoint and the dead one was ejected");
    Expect(failover.All(r => r.StartsWith("orders-v1", StringComparison.Ordinal) || r.StartsWith("error", StringComparison.Ordinal)), "traffic moved to orders-v1");
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

async Task<List<string>> Calls(int count, params (string Name, string Value)[] headers)
{
    var results = new List<string>();
    var line = new StringBuilder();
    for (var i = 0; i < count; i++)
    {
        var result = await Call(headers);
        results.Add(result);
        Console.WriteLine($"  call {i + 1,2}: {result}");
    }

    foreach (var group in results.GroupBy(r => r.Split(' ')[0]).OrderBy(g => g.Key, StringComparer.Ordinal))
    {
        line.Append($"{group.Key}: {group.Count()}  ");
    }

    Console.WriteLine($"  => {line}");
    return results;
}

void WriteConfig(string json)
{
    File.WriteAllText(meshJson + ".tmp", json);
    File.Move(meshJson + ".tmp", meshJson, overwrite: true);
}

async Task WaitForRouting() => await WaitUntil(async () => !(await Call()).StartsWith("error", StringComparison.Ordinal), "the services to load the rules");

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
