using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Mesh.Testing;
using Microsoft.Extensions.Options;

namespace Mesh.Extensions.Admin.Tests;

public sealed class MeshAdminEndpointTests
{
    private const string MeshJson = """
        {
          "mesh": { "serviceName": "frontend" },
          "services": {
            "orders": {
              "endpoints": [
                { "id": "o1", "address": "http://127.0.0.1:5001", "tags": { "version": "v1" } },
                { "id": "o2", "address": "http://127.0.0.1:5002", "tags": { "version": "v2" }, "startedAt": "2000-01-01T00:00:00Z" }
              ],
              "policy": { "routes": [ { "name": "beta", "match": { "headers": { "x-user": { "prefix": "beta-" } } },
                                        "destinations": [ { "subset": { "version": "v2" } } ] } ],
                          "warmUp": { "duration": "00:01:00" } }
            }
          }
        }
        """;

    [Fact]
    public async Task Admin_LoopbackCaller_GetsSnapshotEndpointsAndRejections()
    {
        await using var app = await MeshedApp.StartAsync(MeshJson);
        var orders = app.Runtime.Snapshot.Services["orders"];
        orders.EndpointsById["o1"].State.Eject(app.Runtime.Time.GetTimestamp() + app.Runtime.Time.TimestampFrequency * 60);
        app.Runtime.ApplyJson("""{ "services": { "orders": { "policy": { "loadBalancer": { "kind": "fastest" } } } } }""", "test-bad-rule");
        using var http = new HttpClient();

        using var json = JsonDocument.Parse(await http.GetStringAsync(app.AdminUrl));

        var root = json.RootElement;
        Assert.Equal("frontend", root.GetProperty("serviceName").GetString());
        Assert.Equal(app.Runtime.Snapshot.Version, root.GetProperty("snapshot").GetProperty("version").GetInt64());
        Assert.Equal("beta", root.GetProperty("snapshot").GetProperty("document").GetProperty("services").GetProperty("orders")
            .GetProperty("policy").GetProperty("routes")[0].GetProperty("name").GetString());
        var endpoints = root.GetProperty("services")[0].GetProperty("endpoints");
        Assert.True(endpoints[0].GetProperty("ejected").GetBoolean());
        Assert.True(endpoints[0].GetProperty("ejectedUntil").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.False(endpoints[1].GetProperty("ejected").GetBoolean());
        Assert.Equal(100, endpoints[1].GetProperty("effectiveWeight").GetDouble());
        var rejection = root.GetProperty("rejections")[0];
        Assert.Equal("test-bad-rule", rejection.GetProperty("source").GetString());
        Assert.Equal("$.services.orders.policy.loadBalancer.kind", rejection.GetProperty("path").GetString());
    }

    [Fact]
    public async Task Admin_DocumentWithSecrets_MasksThemInTheResponse()
    {
        const string SigningKey = "the-mesh-signing-key-0123456789";
        await using var app = await MeshedApp.StartAsync($$"""
            { "mesh": { "serviceName": "frontend", "callerSigningKey": "{{SigningKey}}" },
              "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:5001" } ] } } }
            """);
        app.Runtime.ApplyJson("""
            { "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://ops:hunter2-password@127.0.0.1:5001" } ] } } }
            """, "test-credentials-in-address");
        using var http = new HttpClient();

        var body = await http.GetStringAsync(app.AdminUrl);

        Assert.DoesNotContain(SigningKey, body, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", body, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.Equal("(redacted)", root.GetProperty("snapshot").GetProperty("document").GetProperty("mesh").GetProperty("callerSigningKey").GetString());
        Assert.Equal("test-credentials-in-address", root.GetProperty("rejections")[0].GetProperty("source").GetString());
    }

    [Fact]
    public async Task Admin_SecretsInExtensionSettingsAndRejectedAddresses_NeverShown()
    {
        await using var app = await MeshedApp.StartAsync("""
            { "mesh": { "serviceName": "frontend" },
              "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:5001" } ],
                "policy": { "extensions": { "custom": {
                  "secretKey": "s3-secret-key-value", "AccessKey": "access-key-value", "apiKeys": [ "api-key-one", "api-key-two" ],
                  "token": [ "token-value" ], "password": "password-value", "connectionString": "Server=db;Password=conn-pw",
                  "nested": { "clientSecret": { "value": "nested-secret-value" } }, "header": "x-visible" } } } },
                "token-service": { "endpoints": [ { "id": "t1", "address": "http://127.0.0.1:5003", "tags": { "partitionKey": "p1" } } ] } } }
            """);
        app.Runtime.ApplyJson("""
            { "services": { "orders": { "endpoints": [ { "id": "o1", "address": "https://svc:pw-in-userinfo@127.0.0.1:5001" },
                                                       { "id": "o2", "address": "https://127.0.0.1:5002/x?token=query-token-value" } ] } } }
            """, "test-token-in-address");
        using var http = new HttpClient();

        var body = await http.GetStringAsync(app.AdminUrl);

        foreach (var secret in new[] { "s3-secret-key-value", "access-key-value", "api-key-one", "api-key-two", "token-value", "password-value", "conn-pw", "nested-secret-value", "pw-in-userinfo", "query-token-value" })
        {
            Assert.DoesNotContain(secret, body, StringComparison.Ordinal);
        }

        Assert.Contains("x-visible", body, StringComparison.Ordinal);

        // Names the operator chose are not fields: a service called token-service keeps its entry.
        using var json = JsonDocument.Parse(body);
        var services = json.RootElement.GetProperty("snapshot").GetProperty("document").GetProperty("services");
        Assert.Equal(JsonValueKind.Object, services.GetProperty("token-service").ValueKind);
        Assert.Contains("https://127.0.0.1:5002/x(redacted)", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admin_EndpointStartedRecently_ShowsItsWarmUpWeight()
    {
        var started = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        await using var app = await MeshedApp.StartAsync($$"""
            { "services": { "orders": {
                "endpoints": [ { "id": "new", "address": "http://127.0.0.1:5001", "startedAt": "{{started}}" } ],
                "policy": { "warmUp": { "duration": "01:00:00" } } } } }
            """);
        using var http = new HttpClient();

        using var json = JsonDocument.Parse(await http.GetStringAsync(app.AdminUrl));

        var endpoint = json.RootElement.GetProperty("services")[0].GetProperty("endpoints")[0];
        Assert.Equal(100, endpoint.GetProperty("weight").GetInt32());
        Assert.InRange(endpoint.GetProperty("effectiveWeight").GetDouble(), 0.5, 10);
    }

    [Fact]
    public async Task Admin_RemoteCallerByDefault_GetsNotFound()
    {
        await using var app = await MeshedApp.StartAsync(MeshJson);
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, app.AdminUrl);
        request.Headers.Add(MeshedApp.RemoteHeader, "203.0.113.5");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Admin_OtherPaths_ReachTheApp()
    {
        await using var app = await MeshedApp.StartAsync(MeshJson);
        using var http = new HttpClient();

        Assert.Equal("hello", await http.GetStringAsync($"{app.Address}/hello"));
    }

    [Fact]
    public async Task Admin_ExposedWithToken_AnswersRemoteCallersWithTheTokenOnly()
    {
        await using var app = await MeshedApp.StartAsync(MeshJson, o => (o.AllowRemote, o.Token) = (true, "s3cret"));
        using var http = new HttpClient();

        using var without = new HttpRequestMessage(HttpMethod.Get, app.AdminUrl);
        without.Headers.Add(MeshedApp.RemoteHeader, "203.0.113.5");
        using var wrong = new HttpRequestMessage(HttpMethod.Get, app.AdminUrl);
        wrong.Headers.Add(MeshedApp.RemoteHeader, "203.0.113.5");
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "guess");
        using var right = new HttpRequestMessage(HttpMethod.Get, app.AdminUrl);
        right.Headers.Add(MeshedApp.RemoteHeader, "203.0.113.5");
        right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret");

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(without)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(right)).StatusCode);
    }

    [Fact]
    public async Task Admin_ExposedWithoutToken_RefusesToStart()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => MeshedApp.StartAsync(MeshJson, o => o.AllowRemote = true));

        Assert.Contains("Token", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SnapshotVersionMetric_AfterChanges_EqualsTheVersionTheAdminEndpointShows()
    {
        await using var app = await MeshedApp.StartAsync(MeshJson);
        Assert.Empty(app.Runtime.ApplyJson(MeshJson, "second"));
        using var metrics = new MetricRecorder(app.Runtime.Telemetry.Meter, "mesh.snapshot.version");
        using var http = new HttpClient();

        metrics.RecordObservableInstruments();
        using var json = JsonDocument.Parse(await http.GetStringAsync(app.AdminUrl));

        var observed = Assert.Single(metrics.Measurements).Value;
        Assert.True(observed >= 2);
        Assert.Equal(observed, json.RootElement.GetProperty("snapshot").GetProperty("version").GetInt64());
    }
}
