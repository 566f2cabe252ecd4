using System.Collections.Concurrent;
using System.Net;
using Mesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Mesh.Extensions.Governance.Tests;

public sealed class FaultInjectionTests
{
    private static string Orders(TestBackend backend, string faults) => $$"""
        { "services": { "orders": {
            "endpoints": [ { "id": "a", "address": "{{backend.Address}}" } ],
            "policy": { "extensions": { "faults": {{faults}} } } } } }
        """;

    private static async Task<IHost> Client(string json, TempFile file, Action<IServiceCollection>? services = null, Action<IMeshBuilder>? mesh = null)
    {
        file.Write(json);
        var builder = Host.CreateApplicationBuilder();
        services?.Invoke(builder.Services);
        var meshBuilder = builder.Services.AddMesh(o => o.UseFile(file.Path));
        if (mesh is null)
        {
            meshBuilder.AddFaultInjection();
        }
        else
        {
            mesh(meshBuilder);
        }

        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    [Fact]
    public async Task Abort_AllMatchingCalls_AnsweredWithTheStatus_BackendNeverReached_OthersPass()
    {
        await using var backend = await TestBackend.StartAsync("orders");
        using var file = new TempFile();
        using var host = await Client(Orders(backend, """{ "match": { "path": { "prefix": "/chaos" } }, "abort": { "percent": 100, "status": 503 } }"""), file);
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        using var aborted = await client.GetAsync("http://orders/chaos/1");
        var normal = await client.GetStringAsync("http://orders/calm");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, aborted.StatusCode);
        Assert.Equal("abort", aborted.Headers.GetValues("x-mesh-fault").Single());
        Assert.Equal("orders", normal);
        Assert.Equal(1, backend.Requests);
        await host.StopAsync();
    }

    [Fact]
    public async Task Abort_Percentage_HitsThatShareOfCalls()
    {
        await using var backend = await TestBackend.StartAsync("orders");
        using var file = new TempFile();

        // Rolls that step through 0..99 once: a 30% abort hits exactly 30 of 100 calls.
        var next = -1;
        var extension = new FaultInjectionExtension(() => (Interlocked.Increment(ref next) * 37) % 100);
        using var host = await Client(Orders(backend, """{ "abort": { "percent": 30, "status": 500 } }"""), file, mesh: m => m.AddExtension(extension));
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 100; i++)
        {
            using var response = await client.GetAsync("http://orders/");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(30, statuses.Count(s => s == HttpStatusCode.InternalServerError));
        Assert.Equal(70, backend.Requests);
        await host.StopAsync();
    }

    [Fact]
    public async Task Delay_HoldsTheCallForTheDuration_OnTheRuntimeClock()
    {
        await using var backend = await TestBackend.StartAsync("orders");
        using var file = new TempFile();
        var time = new DelayWatchingTimeProvider();
        using var host = await Client(Orders(backend, """{ "delay": { "percent": 100, "duration": "00:00:05" } }"""), file, services => services.AddSingleton<TimeProvider>(time));
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        var call = client.GetStringAsync("http://orders/");

        // The fault waits on a timer of the runtime clock; once it is set, the clock is moved by hand. A timer of a
        // fake clock fires inside Advance, so just short of the duration the call has certainly not gone out.
        await Eventually.UntilAsync(() => time.HasTimerDue(TimeSpan.FromSeconds(5)), "the fault's delay to start");
        time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.False(call.IsCompleted);
        Assert.Equal(0, backend.Requests);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("orders", await call);
        Assert.Equal(1, backend.Requests);
        await host.StopAsync();
    }

    [Fact]
    public async Task AbortedCalls_AreRetriedByTheResilienceHandlerLikeRealFailures()
    {
        await using var backend = await TestBackend.StartAsync("orders");
        using var file = new TempFile();
        var next = -1;

        // The first roll aborts, every later one passes: the retry must reach the backend.
        var extension = new FaultInjectionExtension(() => Interlocked.Increment(ref next) == 0 ? 0 : 100);
        var json = $$"""
            { "services": { "orders": {
                "endpoints": [ { "id": "a", "address": "{{backend.Address}}" } ],
                "policy": { "retry": { "maxAttempts": 2, "on": ["5xx"] }, "extensions": { "faults": { "abort": { "percent": 50, "status": 503 } } } } } } }
            """;
        using var host = await Client(json, file, mesh: m => m.AddExtension(extension).AddResilience());
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        Assert.Equal("orders", await client.GetStringAsync("http://orders/"));
        Assert.Equal(1, backend.Requests);
        await host.StopAsync();
    }

    /// <summary>A fake clock that remembers when each timer created on it was due, so a test can tell a delay has started.</summary>
    private sealed class DelayWatchingTimeProvider : FakeTimeProvider
    {
        private readonly ConcurrentQueue<TimeSpan> _dueTimes = new();

        public bool HasTimerDue(TimeSpan dueTime) => _dueTimes.Contains(dueTime);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _dueTimes.Enqueue(dueTime);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }
}
