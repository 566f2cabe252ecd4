using Mesh.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Extensions.Tests;

/// <summary>
/// Values Polly refuses when it builds a pipeline are rejected with the document, path and reason, and the last good
/// rules stay in force; before, the validator accepted them and every call then went out without retry or timeout.
/// </summary>
public sealed class PolicyLimitsTests
{
    private static string Orders(TestBackend a, TestBackend b, string policy) => $$"""
        { "services": { "orders": {
            "endpoints": [ { "id": "a", "address": "{{a.Address}}" }, { "id": "b", "address": "{{b.Address}}" } ],
            "policy": { {{policy}} } } } }
        """;

    [Theory]
    [InlineData(""" "timeout": "00:00:00.001" """, "timeout")]
    [InlineData(""" "timeout": "30.00:00:00" """, "timeout")]
    [InlineData(""" "retry": { "maxAttempts": 2, "on": ["5xx"], "perTryTimeout": "00:00:00.005" } """, "retry.perTryTimeout")]
    [InlineData(""" "retry": { "maxAttempts": 2, "on": ["5xx"], "backoff": "30.00:00:00" } """, "retry.backoff")]
    [InlineData(""" "circuitBreaker": { "breakDuration": "3650.00:00:00" } """, "circuitBreaker.breakDuration")]
    [InlineData(""" "circuitBreaker": { "samplingDuration": "2.00:00:00" } """, "circuitBreaker.samplingDuration")]
    public async Task DurationOutOfPollysRange_Rejected_NamingThePath_LastGoodKept(string policy, string field)
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        await using var host = await MeshHost.StartAsync(Orders(a, b, """ "retry": { "maxAttempts": 2, "on": ["5xx"] } """), m => m.AddResilience());
        var before = host.Runtime.Snapshot;

        var errors = host.Runtime.ApplyJson(Orders(a, b, policy), "test");

        var error = Assert.Single(errors);
        Assert.Equal($"$.services.orders.policy.{field}", error.Path);
        Assert.Contains("out of the range Polly accepts", error.Message, StringComparison.Ordinal);
        Assert.Same(before, host.Runtime.Snapshot);
    }

    [Fact]
    public async Task DurationsAtPollysBounds_Accepted_AndCallsAreRetried()
    {
        await using var failing = await TestBackend.StartAsync("failing");
        await using var healthy = await TestBackend.StartAsync("healthy");
        failing.AnswerWith(503);
        await using var host = await MeshHost.StartAsync("{}", m => m.AddResilience());
        using var failures = new MetricRecorder(host.Runtime.Telemetry.Meter, "mesh.extension.failures");

        // The low bounds are accepted as well; these are not used for calls, which a 10 ms timeout would make flaky.
        Assert.Empty(host.Runtime.ApplyJson(Orders(failing, healthy, """
            "timeout": "00:00:00.010", "retry": { "maxAttempts": 2, "on": ["5xx"], "perTryTimeout": "00:00:00.010" },
            "circuitBreaker": { "samplingDuration": "00:00:00.500", "breakDuration": "00:00:00.500" }
            """), "test"));
        Assert.Empty(host.Runtime.ApplyJson(Orders(failing, healthy, """
            "timeout": "1.00:00:00",
            "retry": { "maxAttempts": 2, "on": ["5xx"], "backoff": "00:00:00", "perTryTimeout": "1.00:00:00" },
            "circuitBreaker": { "samplingDuration": "1.00:00:00", "breakDuration": "1.00:00:00", "minimumThroughput": 100 }
            """), "test"));

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal("healthy", await host.Client.GetStringAsync("http://orders/"));
        }

        Assert.True(failing.Requests > 0, "round robin sent some calls to the failing endpoint first");
        Assert.Equal(4, healthy.Requests);
        Assert.Empty(failures.Measurements);
    }
}
