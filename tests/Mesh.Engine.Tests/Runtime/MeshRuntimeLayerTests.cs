using System.Text.Json;
using Mesh.Configuration;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Engine.Tests.Runtime;

/// <summary>The embedded file and etcd in one process: each a layer, etcd over the file, neither wiping the other.</summary>
public sealed class MeshRuntimeLayerTests
{
    private const string FileDocument = """
        { "mesh": { "serviceName": "frontend", "laneHeader": "x-file-lane" },
          "services": {
            "orders": { "endpoints": [ { "id": "f1", "address": "http://127.0.0.1:5001", "tags": { "version": "v1" } },
                                       { "id": "f2", "address": "http://127.0.0.1:5002", "tags": { "version": "v2" } } ] },
            "stock": { "endpoints": [ { "id": "s1", "address": "http://127.0.0.1:5003" } ] } } }
        """;

    private const string V2Policy = """{ "routes": [ { "destinations": [ { "subset": { "version": "v2" } } ] } ] }""";

    private static string? Pick(MeshRuntime runtime, string service)
    {
        var request = new TestRequest();
        return runtime.Route(service, ref request, null).Endpoint?.Id;
    }

    private static IReadOnlyList<ValidationError> ApplyEtcd(MeshRuntime runtime, string json) => runtime.ApplyJson(json, "etcd@7", MeshConfigLayer.Etcd);

    [Fact]
    public void Apply_FileAndEtcdLayers_ServicesOfBothRoute()
    {
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson(FileDocument, "mesh.json", MeshConfigLayer.File));

        Assert.Empty(ApplyEtcd(runtime, """{ "services": { "pricing": { "endpoints": [ { "id": "p1", "address": "http://127.0.0.1:5004" } ] } } }"""));

        Assert.Equal("s1", Pick(runtime, "stock"));
        Assert.Equal("p1", Pick(runtime, "pricing"));
        Assert.Equal(["f1", "f2"], runtime.Snapshot.Services["orders"].Endpoints.Select(e => e.Id).Order());

        // Applied in the other order, the file does not wipe etcd either.
        Assert.Empty(runtime.ApplyJson(FileDocument.Replace("5003", "5005", StringComparison.Ordinal), "mesh.json", MeshConfigLayer.File));
        Assert.Equal("p1", Pick(runtime, "pricing"));
        Assert.Equal("http://127.0.0.1:5005/", runtime.Snapshot.Services["stock"].EndpointsById["s1"].Address.ToString());
    }

    [Fact]
    public void Apply_ServiceNamedInOtherCaseByEtcd_GovernsTheFilesService_NotASecondOne()
    {
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson(FileDocument, "mesh.json", MeshConfigLayer.File));

        Assert.Empty(ApplyEtcd(runtime, $$"""{ "services": { "ORDERS": { "policy": {{V2Policy}} } } }"""));

        Assert.Equal(2, runtime.Snapshot.Services.Count);
        Assert.All(Enumerable.Range(0, 4), _ => Assert.Equal("f2", Pick(runtime, "orders")));
    }

    [Fact]
    public void ApplyJson_ServicesDifferingOnlyInCase_RefusedWithBothNames()
    {
        using var runtime = new MeshRuntime();
        var errors = runtime.ApplyJson("""
            { "services": { "orders": { "endpoints": [ { "id": "a", "address": "http://127.0.0.1:5001" } ] },
                            "ORDERS": { "endpoints": [ { "id": "b", "address": "http://127.0.0.1:5002" } ] } } }
            """, "mesh.json");

        var error = Assert.Single(errors);
        Assert.Equal("$.services.ORDERS", error.Path);
        Assert.Contains("differs only in case from service 'orders'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, runtime.Snapshot.Version);
    }

    [Fact]
    public void Apply_EtcdPolicyOverFileEndpoints_RoutesByEtcdPolicyToFileEndpoints()
    {
        using var runtime = new MeshRuntime();
        runtime.ApplyJson(FileDocument, "mesh.json", MeshConfigLayer.File);

        Assert.Empty(ApplyEtcd(runtime, $$"""{ "services": { "orders": { "policy": {{V2Policy}} } } }"""));

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("f2", Pick(runtime, "orders"));
        }

        Assert.Equal(2, runtime.Snapshot.Services["orders"].Endpoints.Length);
    }

    [Fact]
    public void Apply_EtcdValuesRemoved_FileValuesInForceAgain()
    {
        using var runtime = new MeshRuntime();
        runtime.ApplyJson(FileDocument, "mesh.json", MeshConfigLayer.File);
        ApplyEtcd(runtime, $$"""
            { "mesh": { "laneHeader": "x-etcd-lane" },
              "services": { "orders": { "endpoints": [ { "id": "e1", "address": "http://127.0.0.1:6001" } ], "policy": {{V2Policy.Replace("v2", "v9", StringComparison.Ordinal)}} } } }
            """);
        Assert.Equal(["e1"], runtime.Snapshot.Services["orders"].Endpoints.Select(e => e.Id));
        Assert.Equal("x-etcd-lane", runtime.Snapshot.LaneHeader);

        Assert.Empty(ApplyEtcd(runtime, """{ "services": {} }"""));

        Assert.Equal(["f1", "f2"], runtime.Snapshot.Services["orders"].Endpoints.Select(e => e.Id).Order());
        Assert.Contains(Pick(runtime, "orders"), new[] { "f1", "f2" });
        Assert.Equal("x-file-lane", runtime.Snapshot.LaneHeader);
    }

    [Fact]
    public void Apply_MeshSettings_MergedFieldByField()
    {
        using var runtime = new MeshRuntime();
        runtime.ApplyJson(FileDocument, "mesh.json", MeshConfigLayer.File);

        ApplyEtcd(runtime, """{ "mesh": { "zone": "z2" } }""");

        Assert.Equal("frontend", runtime.Snapshot.ServiceName);
        Assert.Equal("x-file-lane", runtime.Snapshot.LaneHeader);
        Assert.Equal("z2", runtime.Snapshot.Zone);
    }

    [Fact]
    public void Apply_LayerMakesMergeInvalid_RejectedWithItsSource_LayerKeepsPreviousGoodUnderLaterLayers()
    {
        using var runtime = new MeshRuntime();
        runtime.ApplyJson(FileDocument, "mesh.json", MeshConfigLayer.File);
        ApplyEtcd(runtime, $$"""{ "services": { "orders": { "policy": {{V2Policy}} } } }""");
        var version = runtime.Snapshot.Version;

        var errors = runtime.ApplyJson(FileDocument.Replace("\"f2\"", "\"f1\"", StringComparison.Ordinal), "mesh.json", MeshConfigLayer.File);

        Assert.NotEmpty(errors);
        Assert.Equal(version, runtime.Snapshot.Version);
        Assert.Contains(runtime.RecentRejections, r => r.Source == "mesh.json");

        // The file layer kept its previous good document: a later etcd change merges over that one.
        Assert.Empty(ApplyEtcd(runtime, """{ "services": {} }"""));
        Assert.Equal(["f1", "f2"], runtime.Snapshot.Services["orders"].Endpoints.Select(e => e.Id).Order());
    }

    [Fact]
    public void Apply_InvalidPartHiddenByHigherLayer_StillRejected()
    {
        using var runtime = new MeshRuntime();
        ApplyEtcd(runtime, $$"""{ "services": { "orders": { "policy": {{V2Policy}} } } }""");

        // The etcd policy hides the file's, but the file's would come into force once etcd's is deleted.
        var errors = runtime.ApplyJson(
            FileDocument.Replace("\"orders\": {", "\"orders\": { \"policy\": { \"loadBalancer\": { \"kind\": \"fastest\" } },", StringComparison.Ordinal),
            "mesh.json", MeshConfigLayer.File);

        Assert.Equal("$.services.orders.policy.loadBalancer.kind", Assert.Single(errors).Path);
        Assert.Equal(1, runtime.Snapshot.Version);
        Assert.Empty(runtime.Snapshot.Services["orders"].Endpoints);
    }

    [Fact]
    public void Apply_WithoutLayer_DefaultLayerReplacesItsWholeDocument()
    {
        using var runtime = new MeshRuntime();
        runtime.ApplyJson(FileDocument, "first");

        runtime.ApplyJson("""{ "services": { "pricing": { "endpoints": [ { "id": "p1", "address": "http://127.0.0.1:5004" } ] } } }""", "second");

        Assert.Equal("pricing", Assert.Single(runtime.Snapshot.Services.Keys));
    }

    [Fact]
    public void Merge_EveryMeshSettingsProperty_TakenFromTheHigherLayer()
    {
        // Guards the field-by-field merge against a settings property added later and forgotten there.
        // Both layers set every property, to different values, so that a reversed precedence fails too.
        var under = new MeshSettings();
        var over = new MeshSettings();
        foreach (var property in typeof(MeshSettings).GetProperties())
        {
            property.SetValue(under, SampleValue(property.PropertyType, higher: false));
            property.SetValue(over, SampleValue(property.PropertyType, higher: true));
        }

        var merged = MeshDocumentMerger.Merge([new MeshDocument { Mesh = under }, new MeshDocument { Mesh = over }]).Mesh!;

        foreach (var property in typeof(MeshSettings).GetProperties())
        {
            var value = property.GetValue(merged);
            var fromHigher = value is Dictionary<string, JsonElement> extensions
                ? extensions.Count == 1 && extensions["e"].GetRawText() == "1"
                : Equals(property.GetValue(over), value);
            Assert.True(fromHigher, $"mesh.{property.Name} is not taken from the higher layer");
        }
    }

    private static object SampleValue(Type type, bool higher) => type switch
    {
        _ when type == typeof(string) => higher ? "x" : "u",
        _ when type == typeof(bool?) => higher,
        _ when type == typeof(Dictionary<string, JsonElement>) => new Dictionary<string, JsonElement> { ["e"] = JsonDocument.Parse(higher ? "1" : "0").RootElement },
        _ => throw new InvalidOperationException($"no sample value for {type}: extend the test and the merge"),
    };
}
