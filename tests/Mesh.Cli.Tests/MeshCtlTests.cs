using System.Text.Json;
using Mesh.Http;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Cli.Tests;

public sealed class MeshCtlTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>
{
    private const string MeshJson = """
        {
          "mesh": { "laneHeader": "x-mesh-lane" },
          "services": {
            "orders": {
              "endpoints": [
                { "id": "o1", "address": "http://127.0.0.1:5001", "tags": { "version": "v1" } },
                { "id": "o2", "address": "http://127.0.0.1:5002", "tags": { "version": "v2" } }
              ],
              "policy": {
                "routes": [ { "name": "beta", "match": { "headers": { "x-user": { "prefix": "beta-" } } },
                              "destinations": [ { "subset": { "version": "v2" } } ] } ]
              }
            },
            "users": { "endpoints": [ { "id": "u1", "address": "http://127.0.0.1:5003" } ] }
          }
        }
        """;

    private MeshCtlRunner NewRunner() => new(etcd.Endpoint, EtcdFixture.NewPrefix());

    [Fact]
    public async Task Validate_ValidFile_ExitsZero()
    {
        using var file = new TempFile();
        file.Write(MeshJson);

        var (exit, output, _) = await NewRunner().RunAsync("validate", file.Path);

        Assert.Equal(0, exit);
        Assert.Contains("valid", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_InvalidFile_ExitsOneWithPathAndReason()
    {
        using var file = new TempFile();
        file.Write("""{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "ftp://x", "weight": -1 } ] } } }""");

        var (exit, output, _) = await NewRunner().RunAsync("validate", file.Path, "--json");

        Assert.Equal(1, exit);
        using var json = JsonDocument.Parse(output);
        var paths = json.RootElement.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()).ToList();
        Assert.Contains("$.services.orders.endpoints[0].address", paths);
        Assert.Contains("$.services.orders.endpoints[0].weight", paths);
    }

    [Fact]
    public async Task Validate_PolicyWithUnknownField_NamesTheField()
    {
        using var file = new TempFile("policy.json");
        file.Write("""{ "loadBalancer": { "kind": "roundRobin" }, "retries": 3 }""");

        var (exit, _, error) = await NewRunner().RunAsync("validate", "--kind", "policy", file.Path);

        Assert.Equal(1, exit);
        Assert.Contains("$.retries", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_MeshJson_WritesEveryDocumentToItsKey()
    {
        var meshctl = NewRunner();
        using var file = new TempFile();
        file.Write(MeshJson);

        var (exit, output, _) = await meshctl.RunAsync("import", file.Path, "--json");

        Assert.Equal(0, exit);
        Assert.Equal(5, JsonDocument.Parse(output).RootElement.GetProperty("keys").GetInt32());
        var policy = await meshctl.RunAsync("get", "policy", "orders");
        Assert.Equal(0, policy.Exit);
        Assert.Contains("beta-", policy.Out, StringComparison.Ordinal);
        var endpoint = await meshctl.RunAsync("get", "endpoint", "users", "u1");
        Assert.Contains("http://127.0.0.1:5003", endpoint.Out, StringComparison.Ordinal);
        var mesh = await meshctl.RunAsync("get", "mesh");
        Assert.True(Configuration.MeshJson.TryParseDocument(mesh.Out, out var document, out _));
        Assert.Equal(2, document.Services!["orders"].Endpoints!.Count);
    }

    [Fact]
    public async Task Import_InvalidDocument_WritesNothing()
    {
        var meshctl = NewRunner();
        using var file = new TempFile();
        file.Write("""{ "services": { "orders": { "policy": { "loadBalancer": { "kind": "fastest" } } } } }""");

        var (exit, _, error) = await meshctl.RunAsync("import", file.Path);

        Assert.Equal(1, exit);
        Assert.Contains("$.services.orders.policy.loadBalancer.kind", error, StringComparison.Ordinal);
        Assert.Equal(1, (await meshctl.RunAsync("get", "policy", "orders")).Exit);
    }

    [Fact]
    public async Task Import_Replace_DeletesOnlyKeysTheDocumentNoLongerHolds()
    {
        var meshctl = NewRunner();
        using var file = new TempFile();
        file.Write(MeshJson);
        await meshctl.RunAsync("import", file.Path);
        file.Write("""{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:5009" } ] } } }""");

        var (exit, _, _) = await meshctl.RunAsync("import", file.Path, "--replace");

        Assert.Equal(0, exit);
        var list = JsonDocument.Parse((await meshctl.RunAsync("list", "--json")).Out).RootElement;
        var row = Assert.Single(list.EnumerateArray());
        Assert.Equal("http://127.0.0.1:5009", row.GetProperty("address").GetString());
        Assert.Equal(1, (await meshctl.RunAsync("get", "policy", "orders")).Exit);
    }

    [Fact]
    public async Task Get_EtcdUnreachable_ExitsTwoWithOneLine()
    {
        var (exit, _, error) = await new MeshCtlRunner("http://127.0.0.1:1", "/mesh").RunAsync("get", "config");

        Assert.Equal(2, exit);
        Assert.StartsWith("meshctl: etcd at http://127.0.0.1:1", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutPolicy_ValidDocument_GetReturnsIt()
    {
        var meshctl = NewRunner();
        using var file = new TempFile("policy.json");
        file.Write("""{ "loadBalancer": { "kind": "leastRequest" } }""");

        var put = await meshctl.RunAsync("put", "policy", "orders", file.Path);
        var get = await meshctl.RunAsync("get", "policy", "orders");

        Assert.Equal(0, put.Exit);
        Assert.Contains($"{meshctl.Prefix}/services/orders/policy", put.Out, StringComparison.Ordinal);
        Assert.True(Configuration.MeshJson.TryParsePolicy(get.Out, out var policy, out _));
        Assert.Equal("leastRequest", policy.LoadBalancer!.Kind);
    }

    [Fact]
    public async Task PutPolicy_InvalidDocument_WritesNothingAndNamesThePath()
    {
        var meshctl = NewRunner();
        using var file = new TempFile("policy.json");
        file.Write("""{ "routes": [ { "destinations": [ { "weight": -5 } ] } ] }""");

        var put = await meshctl.RunAsync("put", "policy", "orders", file.Path);

        Assert.Equal(1, put.Exit);
        Assert.Contains("$.routes[0].destinations[0].weight", put.Err, StringComparison.Ordinal);
        Assert.Equal(1, (await meshctl.RunAsync("get", "policy", "orders")).Exit);
    }

    [Fact]
    public async Task PutEndpoint_ThenDelete_EndpointIsGone()
    {
        var meshctl = NewRunner();
        using var file = new TempFile("endpoint.json");
        file.Write("""{ "id": "p1", "address": "http://127.0.0.1:6001", "weight": 50 }""");

        Assert.Equal(0, (await meshctl.RunAsync("put", "endpoint", "payments", file.Path)).Exit);
        Assert.Equal(0, (await meshctl.RunAsync("get", "endpoint", "payments", "p1")).Exit);
        var delete = await meshctl.RunAsync("delete", "endpoint", "payments", "p1");

        Assert.Equal(0, delete.Exit);
        Assert.Equal(1, (await meshctl.RunAsync("get", "endpoint", "payments", "p1")).Exit);
        Assert.Equal(1, (await meshctl.RunAsync("delete", "endpoint", "payments", "p1")).Exit);
    }

    [Fact]
    public async Task PutEndpoint_ServiceTheRuntimeWouldRefuseAsAWhole_WritesNothing()
    {
        var meshctl = NewRunner();
        using var file = new TempFile("endpoint.json");
        file.Write("""{ "id": "p1", "address": "http://127.0.0.1:6001", "weight": 50 }""");
        Assert.Equal(0, (await meshctl.RunAsync("put", "endpoint", "payments", file.Path)).Exit);

        // Valid as a document, but it drains the service's only endpoint: the provider would keep the last good.
        file.Write("""{ "id": "p1", "address": "http://127.0.0.1:6001", "weight": 0 }""");
        var drained = await meshctl.RunAsync("put", "endpoint", "payments", file.Path);
        Assert.Equal(1, drained.Exit);
        Assert.Contains("total weight", drained.Err, StringComparison.Ordinal);
        Assert.Contains("\"weight\":50", (await meshctl.RunAsync("get", "endpoint", "payments", "p1")).Out.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);

        // A second name for the same host.
        file.Write("""{ "id": "x1", "address": "http://127.0.0.1:6002" }""");
        var shadow = await meshctl.RunAsync("put", "endpoint", "PAYMENTS", file.Path);
        Assert.Equal(1, shadow.Exit);
        Assert.Contains("differs only in case from service 'payments'", shadow.Err, StringComparison.Ordinal);
        Assert.Equal(1, (await meshctl.RunAsync("get", "endpoint", "PAYMENTS", "x1")).Exit);
    }

    [Fact]
    public async Task DeleteService_RemovesPolicyAndEndpoints()
    {
        var meshctl = NewRunner();
        using var file = new TempFile();
        file.Write(MeshJson);
        await meshctl.RunAsync("import", file.Path);

        var delete = await meshctl.RunAsync("delete", "service", "orders", "--json");

        Assert.Equal(0, delete.Exit);
        Assert.Equal(3, JsonDocument.Parse(delete.Out).RootElement.GetProperty("deleted").GetInt64());
        var list = await meshctl.RunAsync("list", "--json");
        Assert.DoesNotContain("orders", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_FromEtcd_ShowsEveryEndpoint()
    {
        var meshctl = NewRunner();
        using var file = new TempFile();
        file.Write(MeshJson);
        await meshctl.RunAsync("import", file.Path);

        var json = await meshctl.RunAsync("list", "--json");
        var table = await meshctl.RunAsync("list", "orders");

        Assert.Equal(0, json.Exit);
        var ids = JsonDocument.Parse(json.Out).RootElement.EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
        Assert.Equal(["o1", "o2", "u1"], ids);
        Assert.Contains("o2", table.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("u1", table.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_HeaderRoute_AgreesWithTheRuntimesActualPick()
    {
        await using var v1 = await TestBackend.StartAsync("orders-v1");
        await using var v2 = await TestBackend.StartAsync("orders-v2");
        var mesh = MeshJson.Replace("http://127.0.0.1:5001", v1.Address, StringComparison.Ordinal).Replace("http://127.0.0.1:5002", v2.Address, StringComparison.Ordinal);
        var meshctl = await ImportAsync(mesh);

        var (exit, output, _) = await meshctl.RunAsync("explain", "orders", "--header", "x-user=beta-42", "--path", "/api/orders", "--json");

        Assert.Equal(0, exit);
        var explained = JsonDocument.Parse(output).RootElement;
        Assert.Equal("beta", explained.GetProperty("route").GetString());
        Assert.Equal("version=v2", explained.GetProperty("destination").GetString());
        var explainedId = explained.GetProperty("endpoint").GetProperty("id").GetString();

        var body = await RuntimePickAsync(mesh, ("x-user", "beta-42"));

        Assert.Equal("o2", explainedId);
        Assert.Equal("orders-v2", body);
    }

    [Fact]
    public async Task Explain_ConsistentHashOnHeader_AgreesWithTheRuntimeForEveryKey()
    {
        var backends = await Task.WhenAll(Enumerable.Range(1, 4).Select(i => TestBackend.StartAsync($"c{i}")));
        var endpoints = string.Join(", ", backends.Select(b => $$"""{ "id": "{{b.Id}}", "address": "{{b.Address}}" }"""));
        var mesh = $$"""
            { "services": { "orders": { "endpoints": [ {{endpoints}} ],
                "policy": { "loadBalancer": { "kind": "consistentHash", "hashOn": { "header": "x-user" } } } } } }
            """;
        var meshctl = await ImportAsync(mesh);
        var explainedPicks = new List<string>();
        var actualPicks = new List<string>();

        try
        {
            foreach (var user in Enumerable.Range(1, 12).Select(i => $"user-{i}"))
            {
                var (_, output, _) = await meshctl.RunAsync("explain", "orders", "--header", $"x-user={user}", "--json");
                explainedPicks.Add(JsonDocument.Parse(output).RootElement.GetProperty("endpoint").GetProperty("id").GetString()!);
                actualPicks.Add(await RuntimePickAsync(mesh, ("x-user", user)));
            }
        }
        finally
        {
            await Task.WhenAll(backends.Select(b => b.DisposeAsync().AsTask()));
        }

        Assert.Equal(actualPicks, explainedPicks);
        // Agreement means something only if the keys spread over the ring.
        Assert.True(actualPicks.Distinct().Count() > 1);
    }

    [Fact]
    public async Task Explain_LaneRequestOnWeightedSplit_AgreesWithTheRuntimeOnTheLaneEndpointAndTheFallback()
    {
        await using var v1 = await TestBackend.StartAsync("v1");
        await using var v2 = await TestBackend.StartAsync("v2");
        await using var gray = await TestBackend.StartAsync("v2-gray");
        var mesh = $$"""
            { "services": { "orders": {
                "endpoints": [ { "id": "v1", "address": "{{v1.Address}}", "tags": { "version": "v1" } },
                               { "id": "v2", "address": "{{v2.Address}}", "tags": { "version": "v2" } },
                               { "id": "v2-gray", "address": "{{gray.Address}}", "tags": { "version": "v2", "lane": "gray" } } ],
                "policy": { "routes": [ { "name": "split", "destinations": [ { "subset": { "version": "v1" }, "weight": 50 },
                                                                            { "subset": { "version": "v2" }, "weight": 50 } ] } ] } } } }
            """;
        var meshctl = await ImportAsync(mesh);
        const int Tries = 32;

        var explainedGray = await ExplainPicksAsync(meshctl, Tries, "--lane", "gray");
        var explainedGrayByHeader = await ExplainPicksAsync(meshctl, Tries, "--header", "x-mesh-lane=gray");
        var explainedFallback = await ExplainPicksAsync(meshctl, Tries, "--lane", "blue");
        var actualGray = await RuntimePicksAsync(mesh, Tries, ("x-mesh-lane", "gray"));
        var actualFallback = await RuntimePicksAsync(mesh, Tries, ("x-mesh-lane", "blue"));

        // The lane outranks the split: every gray request goes to the gray endpoint, however the lane is given.
        Assert.Equal(["v2-gray"], explainedGray);
        Assert.Equal(["v2-gray"], explainedGrayByHeader);
        Assert.Equal(["v2-gray"], actualGray);
        // A lane without endpoints falls back to the base lane, split by weight (both halves seen in 32 tries
        // unless a 2^-32 coincidence), never to another lane's endpoint.
        Assert.Equal(["v1", "v2"], explainedFallback);
        Assert.Equal(["v1", "v2"], actualFallback);
    }

    private async Task<MeshCtlRunner> ImportAsync(string mesh)
    {
        var meshctl = NewRunner();
        using var file = new TempFile();
        file.Write(mesh);
        Assert.Equal(0, (await meshctl.RunAsync("import", file.Path)).Exit);
        return meshctl;
    }

    /// <summary>The distinct endpoints <c>meshctl explain orders</c> picks over <paramref name="tries"/> runs, sorted.</summary>
    private static async Task<List<string>> ExplainPicksAsync(MeshCtlRunner meshctl, int tries, params string[] args)
    {
        var picks = new SortedSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tries; i++)
        {
            var (_, output, _) = await meshctl.RunAsync(["explain", "orders", .. args, "--json"]);
            picks.Add(JsonDocument.Parse(output).RootElement.GetProperty("endpoint").GetProperty("id").GetString()!);
        }

        return [.. picks];
    }

    /// <summary>The distinct backends a meshed HttpClient reaches over <paramref name="tries"/> calls to orders, sorted.</summary>
    private static async Task<List<string>> RuntimePicksAsync(string mesh, int tries, params (string Name, string Value)[] headers)
    {
        var picks = new SortedSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tries; i++)
        {
            picks.Add(await RuntimePickAsync(mesh, headers));
        }

        return [.. picks];
    }

    /// <summary>
    /// What the runtime really does with the request: a plain HttpClient in a process meshed on <paramref name="mesh"/>
    /// calls orders, and the backend that answers names itself in the body.
    /// </summary>
    private static async Task<string> RuntimePickAsync(string mesh, params (string Name, string Value)[] headers)
    {
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson(mesh, "test"));
        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://orders/api/orders");
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await client.SendAsync(request);
        return await response.Content.ReadAsStringAsync();
    }

    [Fact]
    public async Task Explain_NoRouteMatches_ListsRoutesTriedAndBaseCandidates()
    {
        using var file = new TempFile();
        file.Write(MeshJson);

        var (exit, output, _) = await NewRunner().RunAsync("explain", "orders", "--header", "x-user=alice", "--file", file.Path, "--json");

        Assert.Equal(0, exit);
        var explained = JsonDocument.Parse(output).RootElement;
        Assert.Equal("no match", explained.GetProperty("routes")[0].GetProperty("result").GetString());
        Assert.Equal("default", explained.GetProperty("route").GetString());
        Assert.Equal(2, explained.GetProperty("candidates").GetArrayLength());
    }

    [Fact]
    public async Task Explain_LaneWithAndWithoutEndpoints_PicksTheLaneOrFallsBackToBase()
    {
        using var file = new TempFile();
        file.Write(MeshJson.Replace("""{ "id": "u1", "address": "http://127.0.0.1:5003" }""",
            """{ "id": "u1", "address": "http://127.0.0.1:5003" }, { "id": "u-gray", "address": "http://127.0.0.1:5004", "tags": { "lane": "gray" } }""",
            StringComparison.Ordinal));
        var meshctl = NewRunner();

        var gray = JsonDocument.Parse((await meshctl.RunAsync("explain", "users", "--lane", "gray", "--file", file.Path, "--json")).Out).RootElement;
        var blue = JsonDocument.Parse((await meshctl.RunAsync("explain", "users", "--lane", "blue", "--file", file.Path, "--json")).Out).RootElement;

        Assert.Equal("u-gray", gray.GetProperty("endpoint").GetProperty("id").GetString());
        Assert.Equal("gray", gray.GetProperty("lane").GetString());
        Assert.Equal("u1", blue.GetProperty("endpoint").GetProperty("id").GetString());
    }

    [Fact]
    public async Task Explain_UnknownService_SaysItPassesThrough()
    {
        using var file = new TempFile();
        file.Write(MeshJson);

        var (exit, output, _) = await NewRunner().RunAsync("explain", "billing", "--file", file.Path);

        Assert.Equal(1, exit);
        Assert.Contains("pass through", output, StringComparison.Ordinal);
    }
}
