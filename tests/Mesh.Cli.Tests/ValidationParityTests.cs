using System.Text.Json;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Cli.Tests;

/// <summary>
/// <c>meshctl validate</c> and <c>meshctl put</c> refuse exactly what a standard app's runtime refuses, extension
/// settings and the resilience extension's limits included: before, meshctl ran the validator without the extensions'
/// checks, and a document it passed was then rejected by every app.
/// </summary>
public sealed class ValidationParityTests(StandardApp app, EtcdFixture etcd) : IClassFixture<StandardApp>, IClassFixture<EtcdFixture>
{
    public static TheoryData<string, string?> Policies => new()
    {
        { """{ "extensions": { "rateLimit": { "permits": 100, "period": "00:00:01" } } }""", null },
        { """{ "extensions": { "rateLimit": { "permits": -5 } } }""", "$.services.orders.policy.extensions.rateLimit" },
        { """{ "extensions": { "rateLimit": { "maxConcurrent": 0 } } }""", "$.services.orders.policy.extensions.rateLimit" },
        { """{ "extensions": { "authorization": { "rules": [ { "match": { "path": { "prefix": "/admin" } }, "allow": ["ops"] } ] } } }""", null },
        { """{ "extensions": { "authorization": { "rules": [ { "match": { "path": { "regex": "(?<=/)admin" } }, "deny": ["*"] } ] } } }""", "$.services.orders.policy.extensions.authorization" },
        { """{ "extensions": { "authorization": { "rules": [ { "match": { "path": { "regex": "/adm[in" } }, "deny": ["*"] } ] } } }""", "$.services.orders.policy.extensions.authorization" },
        { """{ "extensions": { "authorization": { "allow": "ops" } } }""", "$.services.orders.policy.extensions.authorization" },
        { """{ "extensions": { "faults": { "abort": { "percent": 10, "status": 503 } } } }""", null },
        { """{ "extensions": { "faults": { "abort": { "percent": 150, "status": 503 } } } }""", "$.services.orders.policy.extensions.faults" },
        { """{ "extensions": { "faults": { "delay": { "percent": 10, "duration": "00:00:01" }, "match": { "path": { "regex": "(?=a)b" } } } } }""", "$.services.orders.policy.extensions.faults" },
        { """{ "timeout": "00:00:02", "retry": { "maxAttempts": 3, "on": ["5xx"], "perTryTimeout": "00:00:00.010" } }""", null },
        { """{ "timeout": "00:00:00.001" }""", "$.services.orders.policy.timeout" },
        { """{ "retry": { "maxAttempts": 2, "backoff": "30.00:00:00" } }""", "$.services.orders.policy.retry.backoff" },
        { """{ "circuitBreaker": { "breakDuration": "30.00:00:00" } }""", "$.services.orders.policy.circuitBreaker.breakDuration" },
        { """{ "extensions": { "someoneElses": { "anything": true } } }""", null },
    };

    [Theory]
    [MemberData(nameof(Policies))]
    public async Task MeshCtl_ValidateAndPut_AgreeWithTheRuntime(string policy, string? rejectedAt)
    {
        var document = $$"""
            { "services": { "orders": { "endpoints": [ { "id": "o1", "address": "{{app.Address}}" } ], "policy": {{policy}} } } }
            """;
        using var documentFile = new TempFile();
        documentFile.Write(document);
        using var policyFile = new TempFile("policy.json");
        policyFile.Write(policy);
        var meshctl = new MeshCtlRunner(etcd.Endpoint, EtcdFixture.NewPrefix());

        var runtimeErrors = app.Runtime.ApplyJson(document, "test");
        var (validateExit, validateOutput, _) = await meshctl.RunAsync("validate", documentFile.Path, "--json");
        var (putExit, _, putError) = await meshctl.RunAsync("put", "policy", "orders", policyFile.Path);

        Assert.Equal(runtimeErrors.Select(e => (e.Path, e.Message)), MeshCtlErrors(validateOutput));
        if (rejectedAt is null)
        {
            Assert.Empty(runtimeErrors);
            Assert.Equal(0, validateExit);
            Assert.Equal(0, putExit);
        }
        else
        {
            Assert.All(runtimeErrors, e => Assert.StartsWith(rejectedAt, e.Path, StringComparison.Ordinal));
            Assert.NotEmpty(runtimeErrors);
            Assert.Equal(1, validateExit);
            Assert.Equal(1, putExit);
            Assert.Contains($"$.{rejectedAt["$.services.orders.policy.".Length..]}", putError, StringComparison.Ordinal);
            Assert.Contains("nothing written", putError, StringComparison.Ordinal);
        }
    }

    private static List<(string Path, string Message)> MeshCtlErrors(string output)
    {
        using var json = JsonDocument.Parse(output);
        return [.. json.RootElement.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("path").GetString()!, e.GetProperty("message").GetString()!))];
    }
}

/// <summary>A real ASP.NET Core app with the standard web mesh (<c>AddStandardWebMesh()</c>) on 127.0.0.1, running as <c>orders</c>.</summary>
public sealed class StandardApp : IAsyncLifetime
{
    private WebApplication? _app;

    public string Address { get; private set; } = "";

    public MeshRuntime Runtime => _app!.Services.GetRequiredService<MeshRuntime>();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddStandardWebMesh(o => o.ServiceName = "orders");
        _app = builder.Build();
        _app.MapGet("/", () => "orders");
        await _app.StartAsync();
        Address = _app.ListeningAddress();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
