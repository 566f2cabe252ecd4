using Mesh.Extensions.Resilience;
using Mesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Mesh.Extensions.Tests;

public sealed class ResilienceTests
{
    private static string TwoEndpoints(TestBackend a, TestBackend b, string policy) => $$"""
        { "services": { "orders": {
            "endpoints": [ { "id": "a", "address": "{{a.Address}}" }, { "id": "b", "address": "{{b.Address}}" } ],
            "policy": { {{policy}} } } } }
        """;

    [Fact]
    public async Task Retry_DeadEndpoint_RetriesOnOtherEndpoint()
    {
        await using var alive = await TestBackend.StartAsync("alive");
        var dead = await TestBackend.StartAsync("dead");
        var json = TwoEndpoints(alive, dead, """ "retry": { "maxAttempts": 2, "on": ["connectFailure"] } """);
        await dead.DisposeAsync();
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        var client = host.Client;

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("alive", await client.GetStringAsync("http://orders/"));
        }
    }

    [Fact]
    public async Task Retry_EndpointKilledAfterUse_RetriesOnOtherEndpoint_AndEjects()
    {
        await using var alive = await TestBackend.StartAsync("alive");
        var doomed = await TestBackend.StartAsync("doomed");
        var json = TwoEndpoints(alive, doomed, """
            "retry": { "maxAttempts": 3, "on": ["connectFailure", "5xx"] },
            "outlierDetection": { "consecutiveFailures": 1, "ejectionTime": "00:00:30", "maxEjectionPercent": 50 }
            """);
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        var client = host.Client;
        var state = host.Runtime.Snapshot.Services["orders"].EndpointsById["b"].State;
        for (var i = 0; i < 4; i++)
        {
            await client.GetStringAsync("http://orders/");
        }

        await doomed.DisposeAsync();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("alive", await client.GetStringAsync("http://orders/"));
        }

        // One failure (the configured consecutiveFailures) took it out for 30 s: no later call tried it again.
        Assert.Equal(1, state.Ejections);
        Assert.True(state.IsEjected(host.Runtime.Time.GetTimestamp()), "the killed endpoint is ejected");
        Assert.Equal(1, state.Failures);
    }

    [Fact]
    public async Task Retry_On5xx_ConnectionResetAfterSend_IdempotentRetried_PostNot()
    {
        await using var alive = await TestBackend.StartAsync("alive");
        await using var resetting = await TestBackend.StartAsync("resetting");
        resetting.Handler = context =>
        {
            // Takes the request, then breaks the connection instead of answering.
            context.Abort();
            return Task.CompletedTask;
        };
        var json = TwoEndpoints(alive, resetting, """ "retry": { "maxAttempts": 2, "on": ["5xx"], "budgetPercent": 100 } """);
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        var client = host.Client;

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("alive", await client.GetStringAsync("http://orders/"));
        }

        // A POST the endpoint may have acted on is not sent twice: round robin gives every other one to the resetting endpoint.
        var failedPosts = 0;
        for (var i = 0; i < 6; i++)
        {
            try
            {
                using var response = await client.PostAsync("http://orders/", new StringContent("x"));
            }
            catch (HttpRequestException)
            {
                failedPosts++;
            }
        }

        // Retried, they would all have succeeded on the other endpoint.
        Assert.Equal(3, failedPosts);
    }

    [Fact]
    public async Task Retry_On5xx_RequestBodyFailsWhileSent_NotRetried()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        var json = TwoEndpoints(a, b, """ "retry": { "maxAttempts": 3, "on": ["connectFailure", "5xx"], "budgetPercent": 100 } """);
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        var body = new FailingUpload();

        // An upload the app forwards from a client that went away: the failure is the body's, not the endpoint's,
        // and a second attempt could not send it again.
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => host.Client.PutAsync("http://orders/", new StreamContent(body)));

        Assert.IsType<ClientGoneException>(failure.InnerException);
        Assert.Equal(1, body.Reads);
    }

    private sealed class ClientGoneException() : IOException("the client sending the upload went away");

    private sealed class FailingUpload : Stream
    {
        public int Reads { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Reads++;
            throw new ClientGoneException();
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task Retry_SubscriberThrowsAfterEachResponse_EveryAttemptAbandoned_NoEndpointLeftInFlight()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        var json = TwoEndpoints(a, b, """ "retry": { "maxAttempts": 2, "on": ["connectFailure"] } """);
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        var client = host.Client;
        var endpoints = host.Runtime.Snapshot.Services["orders"].Endpoints;
        await client.GetStringAsync("http://orders/");

        // Each attempt reaches its endpoint, then the subscriber fails HttpClient's send in its finally, before the
        // response event that would complete the attempt, with a connection error that the policy retries. The
        // retry replaces the first attempt's call on the request: the handler must end that one itself.
        using var thrower = new ThrowingHttpSubscriber(
            "System.Net.Http.Response",
            SubscriberFailure.InPredicate,
            () => new HttpRequestException(HttpRequestError.ConnectionError, "a diagnostic subscriber fails on purpose"));
        thrower.Armed = true;
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync("http://orders/"));
        thrower.Armed = false;

        Assert.Equal(3, a.Requests + b.Requests);
        Assert.All(endpoints, e => Assert.Equal(0, e.State.ActiveRequests));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Retry_NonIdempotentPost_RetriedOnlyWhenAllowed(bool allowNonIdempotent)
    {
        await using var failing = await TestBackend.StartAsync("failing");
        await using var healthy = await TestBackend.StartAsync("healthy");
        failing.AnswerWith(503);
        var json = TwoEndpoints(failing, healthy, $$"""
            "retry": { "maxAttempts": 3, "on": ["5xx"], "allowNonIdempotent": {{(allowNonIdempotent ? "true" : "false")}} }
            """);
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        var client = host.Client;

        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.PostAsync("http://orders/", new StringContent("order"));
            statuses.Add((int)response.StatusCode);
        }

        Assert.True(failing.Requests > 0, "round robin sent some posts to the failing endpoint");
        if (allowNonIdempotent)
        {
            // Each post failed over until it reached the healthy endpoint, once.
            Assert.All(statuses, status => Assert.Equal(200, status));
            Assert.Equal(4, healthy.Requests);
        }
        else
        {
            // Each post was sent once: the ones that reached the failing endpoint came back as its 503.
            Assert.Equal(4, failing.Requests + healthy.Requests);
            Assert.Equal(failing.Requests, statuses.Count(status => status == 503));
        }
    }

    [Fact]
    public async Task OutlierDetection_AllEndpointsFailing_NeverEjectsMoreThanMaxEjectionPercent()
    {
        var backends = new List<TestBackend>();
        for (var i = 0; i < 4; i++)
        {
            var backend = await TestBackend.StartAsync($"failing-{i}");
            backend.AnswerWith(503);
            backends.Add(backend);
        }

        try
        {
            await AssertEjectionCappedAsync(backends);
        }
        finally
        {
            foreach (var backend in backends)
            {
                await backend.DisposeAsync();
            }
        }
    }

    private static async Task AssertEjectionCappedAsync(List<TestBackend> backends)
    {
        var endpoints = string.Join(", ", backends.Select((b, i) => $$"""{ "id": "e{{i}}", "address": "{{b.Address}}" }"""));
        var json = $$"""
            { "services": { "orders": { "endpoints": [ {{endpoints}} ],
                "policy": { "outlierDetection": { "consecutiveFailures": 1, "ejectionTime": "00:01:00", "maxEjectionPercent": 50 } } } } }
            """;
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        var client = host.Client;
        var states = host.Runtime.Snapshot.Services["orders"].Endpoints.Select(e => e.State).ToArray();
        int Ejected() => states.Count(s => s.IsEjected(host.Runtime.Time.GetTimestamp()));

        var most = 0;
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync("http://orders/");
            Assert.Equal(503, (int)response.StatusCode);
            most = Math.Max(most, Ejected());
        }

        // Every endpoint failed enough to be ejected, but only half of the service may be out at once.
        Assert.Equal(2, most);
        Assert.Equal(2, states.Sum(s => s.Ejections));
    }

    [Fact]
    public async Task SteadyLoad_BackendKilled_NoFailedCall_EjectedWithinFailures_ReadmittedWhenBack()
    {
        await using var alive = await TestBackend.StartAsync("alive");
        var doomed = await TestBackend.StartAsync("doomed");
        var port = doomed.Port;
        // Four callers may all need a retry at the moment the endpoint dies: the budget must allow four at once (its
        // floor is three; the budget's own limit is tested elsewhere).
        var json = TwoEndpoints(alive, doomed, """
            "retry": { "maxAttempts": 3, "on": ["connectFailure", "5xx"], "budgetPercent": 100 },
            "outlierDetection": { "consecutiveFailures": 2, "ejectionTime": "00:00:02", "maxEjectionPercent": 50 }
            """);
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        var client = host.Client;
        var state = host.Runtime.Snapshot.Services["orders"].EndpointsById["b"].State;
        using var stop = new CancellationTokenSource();
        var failures = 0;
        string? failure = null;
        var calls = 0;
        var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await client.GetStringAsync("http://orders/");
                }
                catch (HttpRequestException ex)
                {
                    Interlocked.Increment(ref failures);
                    failure ??= ex.ToString();
                }

                Interlocked.Increment(ref calls);
            }
        })).ToArray();

        await Eventually.UntilAsync(() => doomed.Requests > 5, "load to reach the doomed endpoint");
        await doomed.DisposeAsync();
        await Eventually.UntilAsync(() => state.Ejections > 0, "the dead endpoint to be ejected");
        var failuresAtEjection = state.Failures;
        await using var back = await TestBackend.StartAsync("back", port: port);
        await Eventually.UntilAsync(() => back.Requests > 0, "the endpoint to be readmitted once it is back");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.True(failures == 0, $"{failures} failed calls; the first: {failure}");
        Assert.True(calls > 50, $"only {calls} calls ran");
        // Ejected on reaching the configured consecutive failures; calls already in flight may add a few. The
        // ejection (2 s) outlasts the read of the count even on a loaded machine.
        Assert.InRange(failuresAtEjection, 2, 2 + 4);
    }

    [Fact]
    public async Task Breaker_Opens_FailsFastWithoutConnecting_HalfOpensAfterBreak()
    {
        await using var backend = await TestBackend.StartAsync("flaky");
        backend.AnswerWith(503);
        var json = $$"""
            { "services": { "orders": {
                "endpoints": [ { "id": "a", "address": "{{backend.Address}}" } ],
                "policy": { "circuitBreaker": { "failureRatio": 0.5, "minimumThroughput": 4, "samplingDuration": "00:00:30", "breakDuration": "00:00:10" } } } } }
            """;
        var time = new FakeTimeProvider();
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience(), services => services.AddSingleton<TimeProvider>(time));
        var client = host.Client;

        for (var i = 0; i < 4; i++)
        {
            using var response = await client.GetAsync("http://orders/");
            Assert.Equal(503, (int)response.StatusCode);
        }

        var requestsWhenOpened = backend.Requests;
        for (var i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<MeshCircuitOpenException>(() => client.GetAsync("http://orders/"));
        }

        Assert.Equal(requestsWhenOpened, backend.Requests);

        backend.Handler = null;
        time.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal("flaky", await client.GetStringAsync("http://orders/"));
        Assert.Equal(requestsWhenOpened + 1, backend.Requests);
        Assert.Equal("flaky", await client.GetStringAsync("http://orders/"));
    }

    [Theory]
    [InlineData(2, true)]
    [InlineData(5, false)]
    public async Task OutlierDetection_FailureRatio_EjectsOnlyAboveTheRatio(int oneFailureIn, bool ejected)
    {
        await using var healthy = await TestBackend.StartAsync("healthy");
        await using var flaky = await TestBackend.StartAsync("flaky");
        var calls = 0;
        flaky.Handler = context =>
        {
            context.Response.StatusCode = Interlocked.Increment(ref calls) % oneFailureIn == 0 ? 503 : 200;
            return Task.CompletedTask;
        };
        var json = TwoEndpoints(healthy, flaky, """
            "outlierDetection": { "consecutiveFailures": 100, "failureRatio": 0.4, "minimumRequests": 10, "interval": "00:01:00", "maxEjectionPercent": 50 }
            """);
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        var client = host.Client;
        var state = host.Runtime.Snapshot.Services["orders"].EndpointsById["b"].State;

        for (var i = 0; i < 60 && state.Ejections == 0; i++)
        {
            using var response = await client.GetAsync("http://orders/");
        }

        Assert.Equal(ejected, state.Ejections > 0);
    }

    [Fact]
    public async Task EndpointBreaker_OpensForTheFailingEndpointOnly_HalfOpensAfterTheBreak()
    {
        await using var healthy = await TestBackend.StartAsync("healthy");
        await using var failing = await TestBackend.StartAsync("failing");
        failing.AnswerWith(503);
        var json = TwoEndpoints(healthy, failing, """
            "circuitBreaker": { "scope": "endpoint", "failureRatio": 0.5, "minimumThroughput": 4, "samplingDuration": "00:01:00", "breakDuration": "00:00:10" }
            """);
        var time = new FakeTimeProvider();
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience(), services => services.AddSingleton<TimeProvider>(time));
        var client = host.Client;

        var statuses = new List<int>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync("http://orders/");
            statuses.Add((int)response.StatusCode);
        }

        // Round robin gives the failing endpoint every other call until its fourth failure opens its breaker.
        Assert.Equal(4, failing.Requests);
        Assert.Equal(4, statuses.Count(s => s == 503));

        failing.Handler = null;
        time.Advance(TimeSpan.FromSeconds(11));
        for (var i = 0; i < 4; i++)
        {
            await client.GetStringAsync("http://orders/");
        }

        Assert.True(failing.Requests > 4, "the endpoint takes calls again after the break");
    }

    [Fact]
    public async Task Bulkhead_Full_RefusesAtOnceWithoutConnecting_FreedSlotServesAgain()
    {
        await using var backend = await TestBackend.StartAsync("orders");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        backend.Handler = async context =>
        {
            await release.Task;
            await context.Response.WriteAsync("held");
        };
        var json = $$"""
            { "services": { "orders": { "endpoints": [ { "id": "a", "address": "{{backend.Address}}" } ],
                "policy": { "bulkhead": { "maxConcurrent": 1 } } } } }
            """;
        await using var host = await MeshHost.StartAsync(json, m => m.AddResilience());
        var client = host.Client;

        var held = client.GetStringAsync("http://orders/");
        await Eventually.UntilAsync(() => backend.Requests == 1, "the first call to hold the only slot");
        await Assert.ThrowsAsync<MeshBulkheadFullException>(() => client.GetStringAsync("http://orders/"));
        Assert.Equal(1, backend.Requests);

        release.SetResult();
        Assert.Equal("held", await held);
        backend.Handler = null;
        Assert.Equal("orders", await client.GetStringAsync("http://orders/"));
    }
}
