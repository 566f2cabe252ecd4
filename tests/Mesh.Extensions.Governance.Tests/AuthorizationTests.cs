using System.Net;
using Mesh.Runtime;

namespace Mesh.Extensions.Governance.Tests;

public sealed class AuthorizationTests
{
    private const string Key = "a-shared-secret-of-the-mesh";

    private static Func<string, string> Orders(string authorization, string key = Key) => address => $$"""
        { "mesh": { "callerSigningKey": "{{key}}" },
          "services": { "orders": {
            "endpoints": [ { "id": "self", "address": "{{address}}" } ],
            "policy": { "extensions": { "authorization": {{authorization}} } } } } }
        """;

    private static Task<(HttpStatusCode Status, string Body)> CallAs(string name, GovernedApp app, string path, string key = Key) => app.CallAsAsync(name, path, key);

    [Fact]
    public async Task SignedCaller_Allowed_SeesVerifiedCallerInContext()
    {
        await using var app = await GovernedApp.StartAsync(Orders("""{ "allow": ["frontend"] }"""));

        var (status, body) = await CallAs("frontend", app, "/orders/1");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.StartsWith("caller=frontend", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForgedCallerHeader_Rejected403_EvenWhenTheClaimedCallerIsAllowed()
    {
        await using var app = await GovernedApp.StartAsync(Orders("""{ "allow": ["frontend"] }"""));
        using var client = new HttpClient();

        using var unsignedClaim = new HttpRequestMessage(HttpMethod.Get, $"{app.Address}/orders/1");
        unsignedClaim.Headers.Add("x-mesh-caller", "frontend");
        using var badSignature = new HttpRequestMessage(HttpMethod.Get, $"{app.Address}/orders/1");
        badSignature.Headers.Add("x-mesh-caller", "frontend");
        badSignature.Headers.Add("x-mesh-caller-signature", $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        using var first = await client.SendAsync(unsignedClaim);
        using var second = await client.SendAsync(badSignature);
        var otherKey = await CallAs("frontend", app, "/orders/1", key: "another-secret-entirely-x");

        Assert.Equal(HttpStatusCode.Forbidden, first.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, second.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, otherKey.Status);
    }

    [Fact]
    public async Task UnsignedCall_DeniedByDenyRule_SignedCallerPasses()
    {
        await using var app = await GovernedApp.StartAsync(Orders("""{ "deny": ["anonymous"] }"""));
        using var client = new HttpClient();

        using var anonymous = await client.GetAsync($"{app.Address}/orders/1");
        var signed = await CallAs("billing", app, "/orders/1");

        Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, signed.Status);
    }

    [Fact]
    public async Task RuleForPath_DecidesBeforeServiceLists()
    {
        await using var app = await GovernedApp.StartAsync(Orders("""
            { "rules": [ { "match": { "path": { "prefix": "/admin" } }, "allow": ["ops"] } ], "allow": ["*"] }
            """));

        Assert.Equal(HttpStatusCode.OK, (await CallAs("frontend", app, "/orders/1")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await CallAs("frontend", app, "/admin/users")).Status);
        Assert.Equal(HttpStatusCode.OK, (await CallAs("ops", app, "/admin/users")).Status);
    }

    [Theory]
    [InlineData("/admin/users")]
    [InlineData("/ADMIN/users")]
    [InlineData("/Admin")]
    [InlineData("//admin/users")]
    [InlineData("/%2Fadmin/users")]
    [InlineData("/admin/..%2Fusers")]
    [InlineData("/admin/..%2F")]
    public async Task RuleForPath_CaseAndEncodingVariants_DoNotBypass(string path)
    {
        await using var app = await GovernedApp.StartAsync(Orders("""
            { "rules": [ { "match": { "path": { "prefix": "/admin" } }, "allow": ["ops"] } ], "allow": ["*"] }
            """));

        Assert.Equal(HttpStatusCode.Forbidden, (await CallAs("frontend", app, path)).Status);
        Assert.Equal(HttpStatusCode.OK, (await CallAs("ops", app, path)).Status);
        Assert.Equal(HttpStatusCode.OK, (await CallAs("frontend", app, "/orders/admin")).Status);
    }

    [Theory]
    [InlineData("/admin")]
    [InlineData("/admin/")]
    [InlineData("/ADMIN")]
    [InlineData("//admin")]
    public async Task ExactRuleForPath_TrailingSlashAndCase_DoNotBypass(string path)
    {
        await using var app = await GovernedApp.StartAsync(Orders("""
            { "rules": [ { "match": { "path": { "exact": "/admin" } }, "allow": ["ops"] } ], "allow": ["*"] }
            """));

        Assert.Equal(HttpStatusCode.Forbidden, (await CallAs("frontend", app, path)).Status);
        Assert.Equal(HttpStatusCode.OK, (await CallAs("ops", app, path)).Status);
    }

    [Fact]
    public async Task RuleForPath_IgnoreCaseFalse_MatchesOnlyTheGivenCase()
    {
        await using var app = await GovernedApp.StartAsync(Orders("""
            { "rules": [ { "match": { "path": { "prefix": "/Reports", "ignoreCase": false } }, "allow": ["ops"] } ], "allow": ["*"] }
            """));

        Assert.Equal(HttpStatusCode.Forbidden, (await CallAs("frontend", app, "/Reports/1")).Status);
        Assert.Equal(HttpStatusCode.OK, (await CallAs("frontend", app, "/reports/1")).Status);
    }

    [Fact]
    public async Task Ingress_LaneAndCallerFromOutside_Stripped()
    {
        await using var app = await GovernedApp.StartAsync(
            address => $$"""{ "services": { "orders": { "endpoints": [ { "id": "self", "address": "{{address}}" } ] } } }""",
            options: o => o.Ingress = true);
        using var client = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{app.Address}/x");
        request.Headers.Add("x-mesh-lane", "gray");
        request.Headers.Add("x-mesh-caller", "admin");

        using var response = await client.SendAsync(request);

        Assert.Equal("caller=- lane=-", await response.Content.ReadAsStringAsync());
    }
}
