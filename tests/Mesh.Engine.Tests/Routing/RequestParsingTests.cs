using Mesh.Routing;

namespace Mesh.Engine.Tests.Routing;

public sealed class RequestParsingTests
{
    [Theory]
    [InlineData("?a=1&tier=gold&b=2", "tier", "gold")]
    [InlineData("tier=gold", "tier", "gold")]
    [InlineData("?flag&tier=", "flag", "")]
    [InlineData("?flag&tier=", "tier", "")]
    public void TryGetQueryValue_PresentName_ReturnsValue(string query, string name, string expected)
    {
        Assert.True(RouteRequestParsing.TryGetQueryValue(query, name, out var value));
        Assert.Equal(expected, value.ToString());
    }

    [Theory]
    [InlineData("?tiers=gold", "tier")]
    [InlineData("", "tier")]
    public void TryGetQueryValue_AbsentName_ReturnsFalse(string query, string name)
        => Assert.False(RouteRequestParsing.TryGetQueryValue(query, name, out _));

    [Theory]
    [InlineData("a=1; user=beta-7; b=2", "user", "beta-7")]
    [InlineData("user=\"quoted\"", "user", "quoted")]
    public void TryGetCookieValue_PresentName_ReturnsValue(string header, string name, string expected)
    {
        Assert.True(RouteRequestParsing.TryGetCookieValue(header, name, out var value));
        Assert.Equal(expected, value.ToString());
    }

    [Fact]
    public void TryGetCookieValue_AbsentName_ReturnsFalse()
        => Assert.False(RouteRequestParsing.TryGetCookieValue("username=x", "user", out _));
}
