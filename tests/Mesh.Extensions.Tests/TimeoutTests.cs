using Microsoft.Extensions.DependencyInjection;
using Mesh.Routing;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Extensions.Tests;

/// <summary>Mesh timeouts count against the endpoint that did not answer; the caller's own cancellation does not.</summary>
public sealed class TimeoutTests
{
    [Fact]
    public async Task PerTryTimeout_HangingEndpoint_CountsAsTimeout_Ejected_RetriedElsewhere()
    {
        await using var alive = await TestBackend.StartAsync("alive");
        await using var hanging = await TestBackend.StartAsync("hanging");
        hanging.Handler = context => Task.Delay(Timeout.Infinite, context.RequestAborted);
        var json = $$"""
            { "services": { "orders": {
                "endpoints": [ { "id": "alive", "address": "{{alive.Address}}" }, { "id": "hanging", "address": "{{hanging.Address}}" } ],
                "policy": {
                  "retry": { "maxAttempts": 2, "on": ["timeout"], "perTryTimeout": "00:00:03" },
                  "outlierDetection": { "consecutiveFailures": 1, "ejectionTime": "00:01:00", "maxEjectionPercent": 50 } } } } }
            """;

        // 3 s per try: long enough that the retry to the healthy endpoint is never cut short by a loaded machine (the
        // whole suite runs in parallel on two cores; 1 s was once exceeded), short enough for one hanging attempt.
        var outcomes = new OutcomeRecorder();
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        host.Runtime.AddObserver(outcomes);
        var state = host.Runtime.Snapshot.Services["orders"].EndpointsById["hanging"].State;

        // The healthy backend answers once directly first, so that its cold start cannot pass for a timeout.
        using (var warmUp = new HttpClient())
        {
            Assert.Equal("alive", await warmUp.GetStringAsync(alive.Address));
        }

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("alive", await host.Client.GetStringAsync("http://orders/"));
        }

        Assert.Equal(1, hanging.Requests);
        Assert.Equal(1 + 6, alive.Requests);
        Assert.Equal(1, outcomes.Count(OutcomeKind.Timeout));
        Assert.Equal(0, outcomes.Count(OutcomeKind.Canceled));
        Assert.Equal(1, state.Ejections);
    }

    [Fact]
    public async Task CallerCancels_SlowEndpoint_CountsAsCanceled_NotEjected()
    {
        await using var slow = await TestBackend.StartAsync("slow");
        slow.Handler = context => Task.Delay(Timeout.Infinite, context.RequestAborted);
        var json = $$"""
            { "services": { "orders": {
                "endpoints": [ { "id": "slow", "address": "{{slow.Address}}" } ],
                "policy": {
                  "retry": { "maxAttempts": 2, "on": ["timeout"], "perTryTimeout": "00:01:00" },
                  "outlierDetection": { "consecutiveFailures": 1, "ejectionTime": "00:01:00", "maxEjectionPercent": 100 } } } } }
            """;
        var outcomes = new OutcomeRecorder();
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        host.Runtime.AddObserver(outcomes);
        using var cancel = new CancellationTokenSource();

        var call = host.Client.GetStringAsync("http://orders/", cancel.Token);
        await Eventually.UntilAsync(() => slow.Requests > 0, "the call to reach the endpoint");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        await Eventually.UntilAsync(() => outcomes.Count(OutcomeKind.Canceled) == 1, "the canceled attempt to be reported");
        Assert.Equal(0, outcomes.Count(OutcomeKind.Timeout));
        Assert.Equal(0, host.Runtime.Snapshot.Services["orders"].EndpointsById["slow"].State.Ejections);
    }
}
