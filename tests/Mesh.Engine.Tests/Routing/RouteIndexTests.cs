using System.Text;
using Mesh.Routing;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Engine.Tests.Routing;

/// <summary>
/// The router finds the first matching route through an index rather than evaluating every route; these tests hold
/// it to the answer of evaluating the routes in order.
/// </summary>
public sealed class RouteIndexTests
{
    private static readonly string[] Values = ["a", "ab", "abc", "b", "ba", "A", "tenant-1", "tenant-10"];
    private static readonly string[] Headers = ["x-a", "X-A", "x-b"];
    private static readonly string[] Paths = ["/", "/a", "/ab", "/ab/c", "/b", "/api/x"];
    private const string Destination = "\"destinations\": [ { \"subset\": {} } ]";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void RandomRulesAndRequests_IndexAgreesWithInOrderEvaluation(int seed)
    {
        var random = new Random(seed);
        for (var ruleSet = 0; ruleSet < 40; ruleSet++)
        {
            using var runtime = new MeshRuntime();
            var json = RuleSet(random, random.Next(1, 30));
            var errors = runtime.ApplyJson(json, "test");
            Assert.True(errors.Count == 0, string.Join("; ", errors));
            var service = runtime.Snapshot.Services["orders"];
            for (var r = 0; r < 50; r++)
            {
                var request = Request(random);
                var lane = random.Next(4) == 0 ? "gray" : null;
                var expected = service.Routes.FirstOrDefault(route => route.Matcher.Matches(ref request, lane)) ?? service.DefaultRoute;

                var decision = runtime.Route("orders", ref request, lane);

                Assert.True(ReferenceEquals(expected, decision.Route), $"seed {seed}: expected route '{expected.Name}', got '{decision.Route?.Name}' for {Describe(request, lane)} in {json}");
            }
        }
    }

    [Fact]
    public void ExactAndPrefixOnSameHeader_EarlierRouteWins()
    {
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson("""
            { "services": { "orders": {
                "endpoints": [ { "id": "e", "address": "http://127.0.0.1:1" } ],
                "policy": { "routes": [
                  { "name": "prefix", "match": { "headers": { "x-user": { "prefix": "beta" } } }, "destinations": [ { "subset": {} } ] },
                  { "name": "exact", "match": { "headers": { "x-user": { "exact": "beta-1" } } }, "destinations": [ { "subset": {} } ] },
                  { "name": "path", "match": { "path": { "prefix": "/api/" } }, "destinations": [ { "subset": {} } ] } ] } } } }
            """, "test"));

        var beta = new TestRequest("GET", "/api/x", new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-user"] = "beta-1" });
        var other = new TestRequest("GET", "/api/x", new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-user"] = "gamma" });

        Assert.Equal("prefix", runtime.Route("orders", ref beta, null).Route?.Name);
        Assert.Equal("path", runtime.Route("orders", ref other, null).Route?.Name);
    }

    private static string RuleSet(Random random, int count)
    {
        var json = new StringBuilder("""{ "services": { "orders": { "endpoints": [ { "id": "e", "address": "http://127.0.0.1:1" }, { "id": "g", "address": "http://127.0.0.1:2", "tags": { "lane": "gray" } } ], "policy": { "routes": [""");
        for (var i = 0; i < count; i++)
        {
            var conditions = new List<string>();
            var headers = Enumerable.Range(0, random.Next(3)).Select(_ => Pick(random, Headers)).Distinct(StringComparer.OrdinalIgnoreCase)
                .Select(h => $"\"{h}\": {Condition(random)}").ToList();
            if (headers.Count > 0)
            {
                conditions.Add($"\"headers\": {{ {string.Join(", ", headers)} }}");
            }

            if (random.Next(3) == 0)
            {
                conditions.Add($"\"path\": {PathCondition(random)}");
            }

            if (random.Next(8) == 0)
            {
                conditions.Add("\"lane\": { \"exact\": \"gray\" }");
            }

            if (random.Next(8) == 0)
            {
                conditions.Add("\"method\": { \"exact\": \"POST\" }");
            }

            var match = conditions.Count == 0 && random.Next(2) == 0 ? "" : $", \"match\": {{ {string.Join(", ", conditions)} }}";
            json.Append(i == 0 ? "" : ",").Append($"{{ \"name\": \"r{i}\"{match}, {Destination} }}");
        }

        return json.Append("] } } } }").ToString();
    }

    private static string Condition(Random random) => random.Next(7) switch
    {
        0 => $"{{ \"exact\": \"{Pick(random, Values)}\" }}",
        1 => $"{{ \"prefix\": \"{Pick(random, Values)}\" }}",
        2 => $"{{ \"in\": [\"{Pick(random, Values)}\", \"{Pick(random, Values)}\"] }}",
        3 => $"{{ \"exact\": \"{Pick(random, Values)}\", \"ignoreCase\": true }}",
        4 => $"{{ \"prefix\": \"{Pick(random, Values)}\", \"ignoreCase\": true }}",
        5 => "{ \"regex\": \"^a+b?$\" }",
        _ => $"{{ \"present\": {(random.Next(2) == 0 ? "true" : "false")} }}",
    };

    private static string PathCondition(Random random) => random.Next(3) switch
    {
        0 => $"{{ \"exact\": \"{Pick(random, Paths)}\" }}",
        1 => $"{{ \"prefix\": \"{Pick(random, Paths)}\" }}",
        _ => "{ \"regex\": \"^/a\" }",
    };

    private static TestRequest Request(Random random)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in Headers)
        {
            if (random.Next(2) == 0)
            {
                headers[header] = Pick(random, Values);
            }
        }

        return new TestRequest(random.Next(5) == 0 ? "POST" : "GET", Pick(random, Paths), headers);
    }

    private static string Describe(TestRequest request, string? lane)
        => $"{request.Method} {request.PathValue} [{string.Join(", ", request.Headers.Select(h => $"{h.Key}={h.Value}"))}] lane {lane ?? "none"}";

    private static string Pick(Random random, string[] values) => values[random.Next(values.Length)];
}
