using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Mesh.Configuration;

namespace Mesh.Extensions.Resilience;

/// <summary>
/// The limits Polly puts on the options a policy becomes (a timeout of 10 ms to a day, a break duration of half a second
/// to a day, ...), checked the way Polly checks them when a pipeline is built: the options' own data annotations, run
/// over the options <see cref="ServicePipelines"/> builds from the policy. Without this a value out of those ranges
/// passes the mesh's validator and then fails the pipeline on every call, which then goes out without retry or timeout.
/// </summary>
internal static class PolicyLimits
{
    public static IEnumerable<ValidationError> Validate(PolicyDocument policy)
    {
        var errors = new List<ValidationError>();
        if (policy.Timeout is { } total)
        {
            Check(ServicePipelines.TotalTimeout(total), "timeout", new() { ["Timeout"] = "timeout" }, errors);
        }

        if (policy.Retry is { } retry)
        {
            Check(ServicePipelines.RetryOptions(retry), "retry", new() { ["Delay"] = "retry.backoff", ["MaxRetryAttempts"] = "retry.maxAttempts" }, errors);
            if (retry.PerTryTimeout is { } perTry)
            {
                Check(ServicePipelines.AttemptTimeout(perTry), "retry.perTryTimeout", new() { ["Timeout"] = "retry.perTryTimeout" }, errors);
            }
        }

        // The endpoint-scoped breaker is the mesh's own (EndpointCircuitBreaker), not Polly's.
        if (policy.CircuitBreaker is { Scope: not "endpoint" } breaker)
        {
            Check(ServicePipelines.BreakerOptions(breaker), "circuitBreaker", new()
            {
                ["FailureRatio"] = "circuitBreaker.failureRatio",
                ["MinimumThroughput"] = "circuitBreaker.minimumThroughput",
                ["SamplingDuration"] = "circuitBreaker.samplingDuration",
                ["BreakDuration"] = "circuitBreaker.breakDuration",
            }, errors);
        }

        return errors;
    }

    // A member the policy does not set directly (none today) is reported at the policy's section, never dropped: the
    // pipeline would fail on it all the same.
    private static void Check(object options, string section, Dictionary<string, string> fields, List<ValidationError> errors)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            return;
        }

        foreach (var result in results)
        {
            var member = result.MemberNames.FirstOrDefault() ?? "";
            errors.Add(new(fields.GetValueOrDefault(member, section), Describe(options, member, result)));
        }
    }

    private static string Describe(object options, string member, ValidationResult result)
    {
        var property = options.GetType().GetProperty(member);
        return property?.GetCustomAttribute<RangeAttribute>(inherit: true) is { } range
            ? $"{property.GetValue(options)} is out of the range Polly accepts: {range.Minimum} to {range.Maximum}"
            : $"Polly does not accept it: {result.ErrorMessage}";
    }
}
