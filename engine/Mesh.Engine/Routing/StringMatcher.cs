using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Mesh.Configuration;

namespace Mesh.Routing;

/// <summary>A compiled string condition. Built once per snapshot; matching allocates nothing.</summary>
public abstract class StringMatcher
{
    /// <summary>Longest regular expression accepted; longer patterns are rejected by the validator.</summary>
    public const int MaxRegexLength = 256;

    /// <summary>Whether the condition holds for a value, or for an absent value when <paramref name="present"/> is false.</summary>
    public abstract bool Matches(bool present, ReadOnlySpan<char> value);

    /// <summary>Human-readable form, for explain output.</summary>
    public abstract override string ToString();

    /// <summary>
    /// The values an indexed lookup can find this condition by: the values that satisfy it exactly, or the
    /// prefixes. Null for conditions that no ordinal lookup can stand for (regex, present, ignoreCase).
    /// </summary>
    internal virtual IndexKeys? Keys => null;

    /// <summary>Compiles a validated condition.</summary>
    public static StringMatcher Create(StringMatchDocument document)
    {
        var comparison = document.IgnoreCase == true ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (document.Exact is { } exact)
        {
            return new ExactMatcher(exact, comparison);
        }

        if (document.Prefix is { } prefix)
        {
            return new PrefixMatcher(prefix, comparison);
        }

        if (document.Regex is { } pattern)
        {
            return new RegexMatcher(pattern, document.IgnoreCase == true);
        }

        if (document.In is { } values)
        {
            return new InMatcher(values, document.IgnoreCase == true);
        }

        return new PresentMatcher(document.Present ?? true);
    }

    /// <summary>Why a pattern is unusable, or null when it is fine.</summary>
    public static string? ValidateRegex(string pattern)
    {
        if (pattern.Length > MaxRegexLength)
        {
            return $"regex is {pattern.Length} characters, over the limit of {MaxRegexLength}";
        }

        try
        {
            _ = new Regex(pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
            return null;
        }
        catch (ArgumentException ex)
        {
            return $"invalid regex '{pattern}': {ex.Message}";
        }
        catch (NotSupportedException ex)
        {
            return $"regex '{pattern}' uses a construct the non-backtracking engine does not support: {ex.Message}";
        }
    }

    private sealed class ExactMatcher(string expected, StringComparison comparison) : StringMatcher
    {
        internal override IndexKeys? Keys => comparison == StringComparison.Ordinal ? new IndexKeys([expected], Prefix: false) : null;

        public override bool Matches(bool present, ReadOnlySpan<char> value) => present && value.Equals(expected, comparison);

        public override string ToString() => $"exact '{expected}'";
    }

    private sealed class PrefixMatcher(string prefix, StringComparison comparison) : StringMatcher
    {
        internal override IndexKeys? Keys => comparison == StringComparison.Ordinal ? new IndexKeys([prefix], Prefix: true) : null;

        public override bool Matches(bool present, ReadOnlySpan<char> value) => present && value.StartsWith(prefix, comparison);

        public override string ToString() => $"prefix '{prefix}'";
    }

    private sealed class RegexMatcher : StringMatcher
    {
        private readonly Regex _regex;

        public RegexMatcher(string pattern, bool ignoreCase)
        {
            // No match timeout: the non-backtracking engine runs in time linear in the value's length whatever the
            // pattern (bounded by MaxRegexLength), so no value is pathological. A wall-clock limit would only fire when
            // the machine is starved of CPU, and then turn a match into a silent wrong route.
            var options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None);
            _regex = new Regex(pattern, options);
        }

        public override bool Matches(bool present, ReadOnlySpan<char> value) => present && _regex.IsMatch(value);

        public override string ToString() => $"regex '{_regex}'";
    }

    private sealed class InMatcher : StringMatcher
    {
        private readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;
        private readonly string _display;
        private readonly IndexKeys? _keys;

        public InMatcher(IEnumerable<string> values, bool ignoreCase)
        {
            var set = values.ToFrozenSet(ignoreCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
            _lookup = set.GetAlternateLookup<ReadOnlySpan<char>>();
            _display = string.Join(", ", set);
            _keys = ignoreCase ? null : new IndexKeys([.. set], Prefix: false);
        }

        internal override IndexKeys? Keys => _keys;

        public override bool Matches(bool present, ReadOnlySpan<char> value) => present && _lookup.Contains(value);

        public override string ToString() => $"in [{_display}]";
    }

    private sealed class PresentMatcher(bool expected) : StringMatcher
    {
        public override bool Matches(bool present, ReadOnlySpan<char> value) => present == expected;

        public override string ToString() => expected ? "present" : "absent";
    }
}

/// <summary>What a route index files a condition under: exact values, or prefixes.</summary>
/// <param name="Values">The values (or prefixes).</param>
/// <param name="Prefix">True for prefixes.</param>
internal sealed record IndexKeys(string[] Values, bool Prefix);
