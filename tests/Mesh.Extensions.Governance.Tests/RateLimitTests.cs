using System.Net;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.AspNetCore.Http;

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
    public async Task PerCaller_EachSignedCallerHasItsOwnBucket()
    {
        const string key = "a-shared-secret-of-the-mesh";
        await using var app = await GovernedApp.StartAsync(address => $$"""
            { "mesh": { "callerSigningKey": "{{key}}" },
              "services": { "orders": { "endpoints": [ { "id": "self", "address": "{{address}}" } ],
                                        "policy": { "extensions": { "rateLimit": { "permits": 2, "period": "01:00:00", "perCaller": true } } } } } }
            """);

        var a = new[] { (await app.CallAsAsync("a", "/x", key)).Status, (await app.CallAsAsync("a", "/x", key)).Status, (await app.CallAsAsync("a", "/x", key)).Status };
        var b = new[] { (await app.CallAsAsync("b", "/x", key)).Status, (await app.CallAsAsync("b", "/x", key)).Status };

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], a);
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK], b);
    }

    [Fact]
    public async Task PerCaller_UnverifiedCallers_ShareOneBucket_RotatingTheNameGainsNothing()
    {
        // No callerSigningKey: anyone can send any x-mesh-caller, so a fresh name must not be a fresh bucket.
        await using var app = await GovernedApp.StartAsync(Orders(""" "rateLimit": { "permits": 2, "period": "01:00:00", "perCaller": true } """));
        using var client = new HttpClient();

        async Task<HttpStatusCode> Call(string caller)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{app.Address}/x");
            request.Headers.Add("x-mesh-caller", caller);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests],
            [await Call("rotating-1"), await Call("rotating-2"), await Call("rotating-3"), await Call("rotating-4")]);
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

    [Fact]
    public async Task JoinsAfterInvalidSettingsWereApplied_ReportedAsRejection_SettingsTreatedAsAbsent()
    {
        // As under the startup hook: the runtime applied its first document before the extension joined it.
        using var runtime = new MeshRuntime(new MeshRuntimeOptions { ServiceName = "orders" });
        Assert.Empty(runtime.ApplyJson(Orders(""" "rateLimit": { "maxConcurrent": 0 } """)("http://127.0.0.1:5001"), "before the extension"));
        using var extension = new RateLimitExtension(runtime);

        runtime.AddExtension(extension);

        var rejection = Assert.Single(runtime.RecentRejections);
        Assert.Equal("extension:rateLimit", rejection.Source);
        Assert.Equal("$.services.orders.policy.extensions.rateLimit", rejection.Error.Path);
        Assert.Contains("maxConcurrent must be 1 or more", rejection.Error.Message, StringComparison.Ordinal);
        var context = new DefaultHttpContext();
        var handedOn = false;
        await extension.InvokeAsync(context, _ =>
        {
            handedOn = true;
            return Task.CompletedTask;
        });
        Assert.True(handedOn, "a limit of no concurrent requests is not in force");
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
    }

    [Fact]
    public async Task MeshDisabled_RateLimitAndAuthorizationStopApplying_ResumeWhenReEnabled()
    {
        static Func<string, string> Rules(bool enabled) => address => $$"""
            { "mesh": { "enabled": {{(enabled ? "true" : "false")}} },
              "services": { "orders": {
                "endpoints": [ { "id": "self", "address": "{{address}}" } ],
                "policy": { "extensions": { "rateLimit": { "permits": 1, "period": "01:00:00" }, "authorization": { "deny": ["intruder"] } } } } } }
            """;
        await using var app = await GovernedApp.StartAsync(Rules(true));
        using var client = new HttpClient();
        async Task<(HttpStatusCode Status, string Body)> Call(string? caller = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{app.Address}/x");
            if (caller is not null)
            {
                request.Headers.Add("x-mesh-caller", caller);
            }

            using var response = await client.SendAsync(request);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await Call("intruder")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Call()).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Call()).Status);

        await app.ApplyAsync(Rules(false)(app.Address));
        Assert.Equal((HttpStatusCode.OK, "caller=- lane=-"), await Call("intruder"));
        Assert.Equal(HttpStatusCode.OK, (await Call()).Status);
        Assert.Equal(HttpStatusCode.OK, (await Call()).Status);

        await app.ApplyAsync(Rules(true)(app.Address));
        Assert.Equal(HttpStatusCode.Forbidden, (await Call("intruder")).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await Call()).Status);
    }
}
