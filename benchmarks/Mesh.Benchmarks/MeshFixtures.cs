using System.Text;
using Mesh.Runtime;

namespace Mesh.Benchmarks;

/// <summary>Configurations for the benchmarks: many endpoints, many rules, subsets and lanes.</summary>
internal static class MeshFixtures
{
    /// <summary>
    /// One service with <paramref name="endpoints"/> endpoints (versions v1/v2, every tenth in lane gray) and
    /// <paramref name="rules"/> routes: header exact, header prefix and path prefix matches, each to a weighted
    /// v1/v2 split. A request with <c>x-tenant: tenant-99</c> matches only the last of 100 rules, so every rule is evaluated.
    /// </summary>
    public static MeshRuntime Runtime(int endpoints, int rules, string balancer = "roundRobin")
    {
        var json = new StringBuilder("""{ "services": { "orders": { "endpoints": [""");
        for (var i = 0; i < endpoints; i++)
        {
            var lane = i % 10 == 9 ? """, "lane": "gray" """ : "";
            json.Append(i == 0 ? "" : ",").Append($$"""{ "id": "e{{i}}", "address": "http://127.0.0.{{1 + (i / 250)}}:{{10000 + i}}", "tags": { "version": "v{{1 + (i % 2)}}"{{lane}} } }""");
        }

        json.Append($$"""], "policy": { "loadBalancer": { "kind": "{{balancer}}" {{(balancer == "consistentHash" ? """, "hashOn": { "header": "x-user" }""" : "")}} }, "routes": [""");
        for (var r = 0; r < rules; r++)
        {
            var match = (r % 3) switch
            {
                0 => $$"""{ "headers": { "x-tenant": { "exact": "tenant-{{r}}" } } }""",
                1 => $$"""{ "headers": { "x-user": { "prefix": "group{{r}}-" } } }""",
                _ => $$"""{ "path": { "prefix": "/api/r{{r}}/" } }""",
            };
            json.Append(r == 0 ? "" : ",").Append($$"""
                { "name": "r{{r}}", "match": {{match}}, "destinations": [ { "subset": { "version": "v1" }, "weight": 90 }, { "subset": { "version": "v2" }, "weight": 10 } ] }
                """);
        }

        json.Append("] } } } }");
        var runtime = new MeshRuntime();
        var errors = runtime.ApplyJson(json.ToString(), "benchmark");
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", errors));
        }

        return runtime;
    }
}
