using Mesh.Providers;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Engine.Tests.Configuration;

public sealed class ValidatorTests
{
    private const string Good = """
        { "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:5001" } ] } } }
        """;

    public static TheoryData<string, string, string> BadDocuments => new()
    {
        { """{ "mesh": { "laneHeader": "host" }, "services": {} }""", "$.mesh.laneHeader", "a header HTTP or tracing already uses" },
        { """{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:1", "weight": 5, "weight": 0 } ] } } }""",
            "$.services.orders.endpoints[0].weight", "uplicate" },
        { """{ "mesh": { "callerHeader": "Transfer-Encoding" }, "services": {} }""", "$.mesh.callerHeader", "a header HTTP or tracing already uses" },
        { $$"""{ "mesh": { "callerSigningKey": "{{new string(' ', 40)}}" }, "services": {} }""", "$.mesh.callerSigningKey", "not white space" },
        { """{ "services": { "orders": { "endpoints": [], "policy": { "routes": [ { "match": { "headers": { "x user": { "exact": "a" } } }, "destinations": [ {} ] } ] } } } }""",
            "$.services.orders.policy.routes[0].match.headers", "'x user' is not a valid header name" },
        { """{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:0" } ] } } }""",
            "$.services.orders.endpoints[0].address", "port 0" },
        { """{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:1", "tags": { "lane": "gray\r\nx-admin: 1" } } ] } } }""",
            "$.services.orders.endpoints[0].tags", "control characters" },
        { """{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:1", "tags": { "lane": "grün" } } ] } } }""",
            "$.services.orders.endpoints[0].tags.lane", "printable ASCII" },

        { "{ \"services\": { \"orders\": ", "$.services.orders", "(line 1, position 27)" },
        { """{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:1", "weight": -5 } ] } } }""",
            "$.services.orders.endpoints[0].weight", "weight -5 is out of range" },
        { """{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:1", "weight": 0 }, { "id": "o2", "address": "http://127.0.0.1:2", "weight": 0 } ] } } }""",
            "$.services.orders.endpoints", "total weight" },
        { """{ "services": { "orders": { "endpoints": [], "policy": { "loadBalancer": { "kind": "fastest" } } } } }""",
            "$.services.orders.policy.loadBalancer.kind", "unknown load balancer 'fastest'" },
        { """{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:1" }, { "id": "o1", "address": "http://127.0.0.1:2" } ] } } }""",
            "$.services.orders.endpoints[1].id", "duplicate endpoint id 'o1'" },
        { """{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "ftp://127.0.0.1:1" } ] } } }""",
            "$.services.orders.endpoints[0].address", "not an absolute http or https address" },
        { """{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "127.0.0.1:1" } ] } } }""",
            "$.services.orders.endpoints[0].address", "not an absolute http or https address" },
        { $$"""{ "services": { "orders": { "endpoints": [], "policy": { "routes": [ { "match": { "path": { "regex": "{{new string('a', 300)}}" } }, "destinations": [ {} ] } ] } } } }""",
            "$.services.orders.policy.routes[0].match.path.regex", "over the limit of 256" },
        { """{ "services": { "orders": { "endpoints": [], "polcy": {} } } }""", "$.services.orders.polcy", "unknown field 'polcy'" },
        { """{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:1", "weight": "heavy" } ] } } }""",
            "$.services.orders.endpoints[0].weight", "wrong type" },
        { """{ "services": { "orders": { "endpoints": [], "policy": { "routes": [ { "destinations": [] } ] } } } }""",
            "$.services.orders.policy.routes[0].destinations", "at least one destination" },
        { """{ "services": { "orders": { "endpoints": [], "policy": { "routes": [ { "match": { "headers": { "x": { "exact": "a", "prefix": "b" } } }, "destinations": [ {} ] } ] } } } }""",
            "$.services.orders.policy.routes[0].match.headers.x", "exactly one of" },
        { """{ "services": { "orders": { "endpoints": [], "policy": { "lane": { "fallback": "elsewhere" } } } } }""",
            "$.services.orders.policy.lane.fallback", "unknown lane fallback" },
        { """{ "services": { "orders": { "endpoints": [], "policy": { "retry": { "maxAttempts": 50, "on": ["sometimes"] } } } } }""",
            "$.services.orders.policy.retry.maxAttempts", "out of range" },
        { """{ "services": { "orders": { "endpoints": [], "policy": { "loadBalancer": { "kind": "consistentHash" } } } } }""",
            "$.services.orders.policy.loadBalancer.hashOn", "exactly one of hashOn" },
        { """{ "services": { "or ders": { "endpoints": [] } } }""", "$.services.or ders", "not a valid host name" },
    };

    [Theory]
    [InlineData("ftp://svc:pw@127.0.0.1:1/x?token=t0k3n#frag", "ftp://(redacted)@127.0.0.1:1/x(redacted)")]
    [InlineData("http://127.0.0.1:1/path?token=t0k3n", "http://127.0.0.1:1/path(redacted)")]
    [InlineData("svc:pw@127.0.0.1:1", "(redacted)@127.0.0.1:1")]
    [InlineData("http://u:pa/ss@127.0.0.1:1", "http://(redacted)@127.0.0.1:1")]
    [InlineData("http://u:pa#ss@127.0.0.1:1", "http://(redacted)@127.0.0.1:1")]
    [InlineData("svc:p@ss@127.0.0.1:1", "(redacted)@127.0.0.1:1")]
    [InlineData("http://127.0.0.1:1/a", "http://127.0.0.1:1/a")]
    public void Shown_CutsUserInfoAndQuery(string address, string shown) => Assert.Equal(shown, Mesh.Configuration.MeshValidator.Shown(address));

    [Fact]
    public void ApplyJson_RejectedAddress_MessageShowsNoToken()
    {
        using var runtime = new MeshRuntime();

        var errors = runtime.ApplyJson("""{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "ftp://127.0.0.1:1/?token=t0k3n" } ] } } }""", "bad.json");

        Assert.Contains(errors, e => e.Path == "$.services.orders.endpoints[0].address" && e.Message.Contains("ftp://127.0.0.1:1/(redacted)", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, e => e.Message.Contains("t0k3n", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_KubernetesServiceNameAsEndpoint_NonAsciiTag_TokenHeaderNames_Accepted()
    {
        using var runtime = new MeshRuntime();

        Assert.Empty(runtime.ApplyJson("""
            { "services": { "orders": {
                "endpoints": [ { "id": "o1", "address": "http://orders:8080", "tags": { "zone": "São Paulo" } } ],
                "policy": { "routes": [ { "match": { "headers": { "x-tenant.id": { "exact": "a" }, "x-api-key": { "present": true } } },
                                          "destinations": [ {} ] } ] } } } }
            """, "good.json"));
    }

    [Theory]
    [MemberData(nameof(BadDocuments))]
    public void ApplyJson_BadDocument_RejectedWithPathAndReason_LastGoodKept(string json, string path, string reason)
    {
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson(Good, "good.json"));
        var good = runtime.Snapshot;

        var errors = runtime.ApplyJson(json, "bad.json");

        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(reason, StringComparison.Ordinal));
        Assert.Same(good, runtime.Snapshot);
        Assert.Contains(runtime.RecentRejections, r => r.Source == "bad.json" && r.Error.Path == path);
    }

    [Fact]
    public void ApplyJson_Rejection_CountsMetricWithSourceAndKey()
    {
        using var runtime = new MeshRuntime();
        using var metrics = new MetricRecorder(runtime.Telemetry.Meter, "mesh.config.rejections");

        runtime.ApplyJson("""{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:1", "weight": -1 } ] } } }""", "/etc/mesh.json");

        Assert.Equal([(1.0, "/etc/mesh.json", "$.services.orders.endpoints[0].weight")],
            metrics.Measurements.Select(m => (m.Value, m.Tag("mesh.source"), m.Tag("mesh.key"))));
    }

    [Fact]
    public void Apply_ValidDocument_IncreasesVersion()
    {
        using var runtime = new MeshRuntime();
        Assert.Equal(0, runtime.Snapshot.Version);
        runtime.ApplyJson(Good, "a");
        runtime.ApplyJson(Good, "a");
        Assert.Equal(2, runtime.Snapshot.Version);
    }

    [Fact]
    public void Validate_ContractExample_IsValid()
    {
        // The example of ARCHITECTURE.md's configuration contract, verbatim in shape.
        const string example = """
            {
              "mesh": { "serviceName": "frontend", "enabled": true, "laneHeader": "x-mesh-lane" },
              "services": {
                "orders": {
                  "endpoints": [
                    { "id": "o1", "address": "http://127.0.0.1:5001", "weight": 100, "zone": "z1", "tags": { "version": "v1" } },
                    { "id": "o2", "address": "http://127.0.0.1:5002", "weight": 100, "tags": { "version": "v2", "lane": "gray" } }
                  ],
                  "policy": {
                    "loadBalancer": { "kind": "roundRobin" },
                    "routes": [
                      { "name": "beta", "match": { "headers": { "x-user": { "prefix": "beta-" } } },
                        "destinations": [ { "subset": { "version": "v2" }, "weight": 100 } ] }
                    ],
                    "retry": { "maxAttempts": 3, "on": ["connectFailure", "5xx"] },
                    "timeout": "00:00:02",
                    "circuitBreaker": { "failureRatio": 0.5, "minimumThroughput": 20, "breakDuration": "00:00:30" },
                    "outlierDetection": { "consecutiveFailures": 5, "ejectionTime": "00:00:30", "maxEjectionPercent": 50 }
                  }
                }
              }
            }
            """;
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson(example, "contract"));
        Assert.Equal("frontend", runtime.Snapshot.ServiceName);
    }

    [Fact]
    public void ApplyJson_HugeDocument_RejectedWithoutParsing()
    {
        using var runtime = new MeshRuntime();
        var errors = runtime.ApplyJson(new string(' ', Mesh.Configuration.MeshJson.MaxDocumentLength + 1), "huge");
        Assert.Contains("over the limit", errors.Single().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ApplyJson_DocumentOfManyMebibytes_UnderTheLimit_Applied()
    {
        // 20,000 endpoints: about 1.5 MB, more than the old limit of 1 MiB held.
        var services = string.Join(",", Enumerable.Range(0, 20).Select(s =>
            $$"""
            "svc-{{s}}": { "endpoints": [ {{string.Join(",", Enumerable.Range(0, 1000).Select(e => $$"""{ "id": "endpoint-{{e}}", "address": "http://127.0.0.1:{{1000 + e}}", "zone": "zone-a" }"""))}} ] }
            """));
        var json = $$"""{ "services": { {{services}} } }""";
        Assert.InRange(json.Length, 1024 * 1024 + 1, Mesh.Configuration.MeshJson.MaxDocumentLength);

        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson(json, "large"));
        Assert.Equal(20_000, runtime.Snapshot.Services.Values.Sum(s => s.Endpoints.Length));
    }

    private const string WithBuggySettings = """
        { "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:5001" } ],
                                    "policy": { "extensions": { "buggy": { "on": true } } } } } }
        """;

    [Fact]
    public void ApplyJson_ExtensionValidatorThrowsUnexpectedly_RejectedNamingExtensionAndPath_LastGoodKept_FailureCounted()
    {
        using var runtime = new MeshRuntime();
        using var failures = new MetricRecorder(runtime.Telemetry.Meter, "mesh.extension.failures");
        Assert.Empty(runtime.ApplyJson(Good, "good"));
        runtime.AddExtensionValidator("buggy", _ => throw new NullReferenceException("validator bug"));

        var errors = runtime.ApplyJson(WithBuggySettings, "buggy");

        var error = Assert.Single(errors);
        Assert.Equal("$.services.orders.policy.extensions.buggy", error.Path);
        Assert.Contains("extension 'buggy'", error.Message, StringComparison.Ordinal);
        Assert.Contains("NullReferenceException", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, runtime.Snapshot.Version);
        Assert.Equal(1, failures.Sum("mesh.extension.failures"));
    }

    [Fact]
    public async Task FileSource_ExtensionValidatorThrowsUnexpectedly_ReloadKeepsRunning()
    {
        using var file = new TempFile();
        file.Write(Good);
        using var runtime = new MeshRuntime();
        runtime.AddExtensionValidator("buggy", _ => throw new NullReferenceException("validator bug"));
        await using var source = new JsonFileConfigSource(file.Path);
        await source.StartAsync(runtime, CancellationToken.None);

        file.Write(WithBuggySettings);
        await Eventually.UntilAsync(() => runtime.RecentRejections.Count > 0, "the document to be rejected");
        file.Write(Good.Replace("5001", "5002", StringComparison.Ordinal));

        await Eventually.UntilAsync(() => runtime.Snapshot.Version == 2, "the next good document to be applied");
        Assert.Equal("$.services.orders.policy.extensions.buggy", runtime.RecentRejections.Single().Error.Path);
    }

    [Fact]
    public void AddExtensionValidator_DocumentInForceHasInvalidSettings_ReportedAsRejections_DocumentStays()
    {
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson(WithBuggySettings, "before the extension"));

        runtime.AddExtensionValidator("buggy", _ => ["'on' is not a setting"]);

        var rejection = Assert.Single(runtime.RecentRejections);
        Assert.Equal("extension:buggy", rejection.Source);
        Assert.Equal("$.services.orders.policy.extensions.buggy", rejection.Error.Path);
        Assert.Equal("'on' is not a setting", rejection.Error.Message);
        Assert.Equal(1, runtime.Snapshot.Version);
    }
}
