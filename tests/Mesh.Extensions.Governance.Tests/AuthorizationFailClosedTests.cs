using System.Net;
using Mesh.Providers.Etcd;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Extensions.Governance.Tests;

/// <summary>
/// Authorization rules that could not be loaded close the service instead of leaving it open. They reach a snapshot when
/// the document was applied before the extension joined the runtime, as under the startup hook, whose sources deliver
/// the first document before the app's web host (and its authorization) is built.
/// </summary>
public sealed class AuthorizationFailClosedTests
{
    // A lookbehind: the non-backtracking engine cannot run it, so the rules cannot be loaded.
    private const string InvalidRules = """{ "rules": [ { "match": { "path": { "regex": "(?<=/)admin" } }, "deny": ["anonymous"] } ] }""";
    private const string ValidRules = """{ "rules": [ { "match": { "path": { "prefix": "/admin" } }, "deny": ["anonymous"] } ] }""";

    private static string Orders(string authorization, bool? failOpen = null) => $$"""
        { "mesh": { {{(failOpen is { } open ? $"\"authorizationFailOpen\": {(open ? "true" : "false")}" : "")}} },
          "services": { "orders": {
            "endpoints": [ { "id": "self", "address": "http://127.0.0.1:1" } ],
            "policy": { "extensions": { "authorization": {{authorization}} } } } } }
        """;

    [Fact]
    public async Task FirstDocumentWithInvalidRules_RequestsRefused_UntilValidRulesArrive()
    {
        using var runtime = new MeshRuntime(new MeshRuntimeOptions { ServiceName = "orders" });
        Assert.Empty(runtime.ApplyJson(Orders(InvalidRules), "first"));
        using var denials = new MetricRecorder(runtime.Telemetry.Meter, "mesh.authorization.denials");
        await using var app = await StartAppAsync(runtime);

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(app, "/public"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(app, "/admin"));
        Assert.Contains(runtime.RecentRejections, r => r.Source == "extension:authorization"
            && r.Error.Path == "$.services.orders.policy.extensions.authorization");
        Assert.Equal(2, denials.Of("mesh.authorization.denials").Count(m => m.Tag("mesh.reason") == "invalid_settings"));

        Assert.Empty(runtime.ApplyJson(Orders(ValidRules), "fixed"));

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/public"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(app, "/admin"));
    }

    [Fact]
    public async Task FirstDocumentWithInvalidRules_LaterInvalidDocumentRejected_StaysClosed()
    {
        using var runtime = new MeshRuntime(new MeshRuntimeOptions { ServiceName = "orders" });
        Assert.Empty(runtime.ApplyJson(Orders(InvalidRules), "first"));
        await using var app = await StartAppAsync(runtime);

        // Turning fail-open on alongside rules that are still invalid is rejected whole: the service stays closed.
        Assert.NotEmpty(runtime.ApplyJson(Orders(InvalidRules, failOpen: true), "second"));

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(app, "/public"));
    }

    [Fact]
    public async Task FirstDocumentWithInvalidRules_FailOpenOptedIn_RequestsPass()
    {
        using var runtime = new MeshRuntime(new MeshRuntimeOptions { ServiceName = "orders" });
        Assert.Empty(runtime.ApplyJson(Orders(InvalidRules, failOpen: true), "first"));
        await using var app = await StartAppAsync(runtime);

        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/public"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/admin"));
    }

    [Fact]
    public async Task ExtensionJoinedFirst_FirstDocumentRefused_RequestsRefused_UntilADocumentIsAccepted()
    {
        // As with AddMesh(): the app's authorization is there before the first document, which is refused whole.
        using var runtime = new MeshRuntime(new MeshRuntimeOptions { ServiceName = "orders" });
        await using var app = await StartAppAsync(runtime);
        Assert.NotEmpty(runtime.ApplyJson(Orders(InvalidRules), "first"));

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(app, "/public"));

        // The operator takes the rules out: accepted, and a service without rules is open.
        Assert.Empty(runtime.ApplyJson("""{ "services": { "orders": { "endpoints": [ { "id": "self", "address": "http://127.0.0.1:1" } ] } } }""", "fixed"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/public"));
    }

    [Fact]
    public async Task EtcdPolicyKeyRefused_NoRulesInForce_Closed_LastGoodRulesKept_OpenOnceDeleted()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        const string Key = "/af/services/orders/policy";
        await client.PutAsync(Key, $$"""{ "extensions": { "authorization": {{InvalidRules}} } }""");
        using var runtime = new MeshRuntime(new MeshRuntimeOptions { ServiceName = "orders" });
        await using var app = await StartAppAsync(runtime);
        var options = new EtcdProviderOptions { Prefix = "/af" };
        options.Endpoints.Add(etcd.ClientUrls[0]);
        await using var source = new EtcdConfigSource(options);
        await source.StartAsync(runtime, CancellationToken.None);

        Assert.Contains(runtime.RecentRejections, r => r.Source == Key);
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(app, "/public"));

        await client.PutAsync(Key, $$"""{ "extensions": { "authorization": {{ValidRules}} } }""");
        await Eventually.UntilAsync(async () => await StatusAsync(app, "/public") == HttpStatusCode.OK, "the valid rules to apply");
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(app, "/admin"));

        // Refused again while good rules are in force: those stay, and so does access by them.
        await client.PutAsync(Key, $$"""{ "extensions": { "authorization": {{InvalidRules}} } }""");
        await Eventually.UntilAsync(() => runtime.RecentRejections.Count(r => r.Source == Key) == 2, "the second refusal");
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/public"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(app, "/admin"));

        await client.DeleteAsync(Key);
        await Eventually.UntilAsync(async () => await StatusAsync(app, "/admin") == HttpStatusCode.OK, "the deleted policy to open the service");
    }

    [Fact]
    public async Task ScopedEtcd_OwnServiceNamedInOtherCase_RulesTakenInOnTheFirstRequest()
    {
        // Only the services in use are compiled, and this app's own is spelled differently by the host than in etcd:
        // its rules must still be found, on the first request, or the service would be open.
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        await client.PutAsync("/scoped/services/orders/policy", $$"""{ "extensions": { "authorization": {{ValidRules}} } }""");
        await client.PutAsync("/scoped/services/pay/endpoints/p1", """{ "address": "http://127.0.0.1:1" }""");
        using var runtime = new MeshRuntime(new MeshRuntimeOptions { ServiceName = "ORDERS" });
        await using var app = await StartAppAsync(runtime);
        var options = new EtcdProviderOptions { Prefix = "/scoped", ScopeToCalledServices = true };
        options.Endpoints.Add(etcd.ClientUrls[0]);
        await using var source = new EtcdConfigSource(options);
        await source.StartAsync(runtime, CancellationToken.None);

        Assert.False(runtime.Snapshot.Services.ContainsKey("pay"));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(app, "/admin"));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(app, "/public"));
    }

    // The app as the startup hook builds it: the hook's runtime, joined by the app's host with governance.
    private static async Task<WebApplication> StartAppAsync(MeshRuntime runtime)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddMesh(o => o.ExternalRuntime = runtime).AddGovernance();
        var app = builder.Build();
        app.Map("/{**path}", () => "orders");
        await app.StartAsync();
        return app;
    }

    private static async Task<HttpStatusCode> StatusAsync(WebApplication app, string path)
    {
        using var client = new HttpClient();
        using var response = await client.GetAsync($"{app.ListeningAddress()}{path}");
        return response.StatusCode;
    }
}
