using Mesh.Configuration;
using Mesh.Routing;

namespace Mesh.Engine.Tests.Routing;

public sealed class StringMatcherTests
{
    [Theory]
    [InlineData("beta", "beta", false, true)]
    [InlineData("beta", "Beta", false, false)]
    [InlineData("beta", "Beta", true, true)]
    [InlineData("beta", "beta-1", false, false)]
    public void Exact_Values_MatchAsExpected(string expected, string value, bool ignoreCase, bool matches)
        => Assert.Equal(matches, StringMatcher.Create(new StringMatchDocument { Exact = expected, IgnoreCase = ignoreCase }).Matches(true, value));

    [Theory]
    [InlineData("beta-", "beta-42", true)]
    [InlineData("beta-", "alpha-beta-", false)]
    [InlineData("beta-", "beta", false)]
    public void Prefix_Values_MatchAsExpected(string prefix, string value, bool matches)
        => Assert.Equal(matches, StringMatcher.Create(new StringMatchDocument { Prefix = prefix }).Matches(true, value));

    [Theory]
    [InlineData("^/api/v[0-9]+/orders$", "/api/v2/orders", true)]
    [InlineData("^/api/v[0-9]+/orders$", "/api/vx/orders", false)]
    [InlineData("user-[a-z]+", "id=user-abc", true)]
    public void Regex_Values_MatchAsExpected(string pattern, string value, bool matches)
        => Assert.Equal(matches, StringMatcher.Create(new StringMatchDocument { Regex = pattern }).Matches(true, value));

    [Theory]
    [InlineData("gold", true)]
    [InlineData("silver", true)]
    [InlineData("bronze", false)]
    [InlineData("GOLD", false)]
    public void In_Values_MatchAsExpected(string value, bool matches)
        => Assert.Equal(matches, StringMatcher.Create(new StringMatchDocument { In = ["gold", "silver"] }).Matches(true, value));

    [Fact]
    public void In_IgnoreCase_MatchesOtherCase()
        => Assert.True(StringMatcher.Create(new StringMatchDocument { In = ["gold"], IgnoreCase = true }).Matches(true, "GOLD"));

    [Theory]
    [InlineData(true, true, true)]
    [InlineData(true, false, false)]
    [InlineData(false, false, true)]
    [InlineData(false, true, false)]
    public void Present_PresenceOfValue_Decides(bool expected, bool present, bool matches)
        => Assert.Equal(matches, StringMatcher.Create(new StringMatchDocument { Present = expected }).Matches(present, "x"));

    [Fact]
    public void AnyOperatorButPresent_AbsentValue_DoesNotMatch()
    {
        Assert.False(StringMatcher.Create(new StringMatchDocument { Exact = "" }).Matches(false, ""));
        Assert.False(StringMatcher.Create(new StringMatchDocument { Prefix = "" }).Matches(false, ""));
        Assert.False(StringMatcher.Create(new StringMatchDocument { Regex = ".*" }).Matches(false, ""));
    }

    [Fact]
    public void ValidateRegex_OverLongPattern_IsRejectedWithLength()
    {
        var reason = StringMatcher.ValidateRegex(new string('a', StringMatcher.MaxRegexLength + 1));
        Assert.NotNull(reason);
        Assert.Contains("over the limit", reason);
    }

    [Fact]
    public void ValidateRegex_BacktrackingConstruct_IsRejected()
        => Assert.Contains("non-backtracking", StringMatcher.ValidateRegex(@"(a)\1"));

    [Fact]
    public void ValidateRegex_InvalidPattern_IsRejected()
        => Assert.Contains("invalid regex", StringMatcher.ValidateRegex("(unclosed"));
}
