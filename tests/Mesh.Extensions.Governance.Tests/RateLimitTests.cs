using System.Net;
using Mesh.Testing;

namespace Mesh.Extensions.Governance.Tests;

public sealed class RateLimitTests
{
    private static Func<string, string> Orders(string extensions) => address => $$"""
        { "services": { "orders": {
            "endpoints": [ { "id": "self", "address": "{{address}}" } ],
            "policy": { "extensions": { {{extensions}} } } } } }
        """;

    [Fact]
    public async Task TokenBucket_NPlusKRequestsInTheWindow_ExactlyKRejectedWith429AndRetryAfter()
    {
        // A one-hour period: no refill can happen while the test runs.
        await using var app = await GovernedApp.StartAsync(Orders(""" "rateLimit": { "permits": 5, "period": "01:00:00" } """));
        using var client = new HttpClient();

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 8; i++)
        {
            responses.Add(await client.GetAsync($"{app.Address}/x"));
        }

        Assert.Equal(5, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        var rejected = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.Equal(3, rejected.Count);
        Assert.All(rejected, r => Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "Retry-After of at least a second"));
        responses.ForEach(r => r.Dispose());
    }

    [Fact]
    public async Task PerCaller_EachCallerHasItsOwnBucket()
    {
        await using var app = await GovernedApp.StartAsync(Orders(""" "rateLimit": { "permits": 2, "period": "01:00:00", "perCaller": true } """));
        using var client = new HttpClient();

        async Task<HttpStatusCode> Call(string caller)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{app.Address}/x");
            request.Headers.Add("x-mesh-caller", caller);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        var a = new[] { await Call("a"), await Call("a"), await Call("a") };
        var b = new[] { await Call("b"), await Call("b") };

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], a);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK], b);
    }

    [Fact]
    public async Task Concurrency_OverTheLimit_RejectedAtOnce_FreedSlotServesAgain()
    {
        await using var app = await GovernedApp.StartAsync(Orders(""" "rateLimit": { "maxConcurrent": 1 } """));
        using var client = new HttpClient();
        app.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var held = client.GetAsync($"{app.Address}/held");
        await Eventually.UntilAsync(() => app.Waiting == 1, "the first request to hold the only slot");
        using (var refused = await client.GetAsync($"{app.Address}/probe"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        app.Hold.SetResult();
        using (var first = await held)
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        app.Hold = null;
        using var after = await client.GetAsync($"{app.Address}/after");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task InvalidSettings_RejectedWithPath_LastGoodLimitStays()
    {
        await using var app = await GovernedApp.StartAsync(Orders(""" "rateLimit": { "permits": 1, "period": "01:00:00" } """));
        using var client = new HttpClient();

        var errors = app.Runtime.ApplyJson(Orders(""" "rateLimit": { "permits": -3 } """)(app.Address), "test");
        var unknown = app.Runtime.ApplyJson(Orders(""" "rateLimit": { "permitz": 3 } """)(app.Address), "test");

        Assert.Contains(errors, e => e.Path == "$.services.orders.policy.extensions.rateLimit" && e.Message.Contains("permits must be 1 or more", StringComparison.Ordinal));
        Assert.Contains(unknown, e => e.Path == "$.services.orders.policy.extensions.rateLimit" && e.Message.Contains("permitz", StringComparison.Ordinal));
        using var first = await client.GetAsync($"{app.Address}/x");
        using var second = await client.GetAsync($"{app.Address}/x");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
    }
}
