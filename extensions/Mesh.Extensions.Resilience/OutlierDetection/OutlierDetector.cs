using System.Diagnostics.Metrics;
using Mesh.Configuration;
using Mesh.Extensibility;
using Mesh.Model;
using Mesh.Runtime;
using Microsoft.Extensions.Logging;

namespace Mesh.Extensions.Resilience.OutlierDetection;

/// <summary>
/// Passive health checking: an endpoint that fails <c>consecutiveFailures</c> times in a row, or whose share of
/// failed calls within <c>interval</c> reaches <c>failureRatio</c> (after <c>minimumRequests</c> calls), is ejected for
/// <c>ejectionTime × n</c> (n = how often it was ejected, capped by <c>maxEjectionTime</c>), unless that would
/// eject more than <c>maxEjectionPercent</c> of the service's endpoints. Pickers skip ejected endpoints and take
/// them back when the time is up.
/// </summary>
public sealed partial class OutlierDetector : IMeshExtension, IOutcomeObserver
{
    private readonly MeshRuntime _runtime;
    private readonly ILogger _logger;
    private readonly Counter<long> _ejections;
    private readonly FailureWindows _windows;

    /// <summary>Creates the detector for <paramref name="runtime"/>.</summary>
    public OutlierDetector(MeshRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        _runtime = runtime;
        _logger = runtime.LoggerFactory.CreateLogger("Mesh.OutlierDetection");
        _windows = new FailureWindows(runtime.Time);
        _ejections = runtime.Telemetry.Meter.CreateCounter<long>("mesh.ejections", "{ejection}", "Endpoints ejected by outlier detection, by service and endpoint.");
    }

    /// <inheritdoc />
    public string Name => "outlierDetection";

    /// <inheritdoc />
    public int Order => 100;

    /// <inheritdoc />
    public void OnOutcome(in CallOutcome outcome)
    {
        if (!outcome.IsFailure || outcome.Service.Policy.OutlierDetection is not { } settings)
        {
            return;
        }

        var endpoint = outcome.Endpoint;
        var now = _runtime.Time.GetTimestamp();
        if (endpoint.State.IsEjected(now)
            || (endpoint.State.ConsecutiveFailures < (settings.ConsecutiveFailures ?? 5) && !FailureRatioReached(endpoint.State, settings, now)))
        {
            return;
        }

        var endpoints = outcome.Service.Endpoints;
        var ejected = 0;
        foreach (var other in endpoints)
        {
            ejected += other.State.IsEjected(now) ? 1 : 0;
        }

        if ((ejected + 1) * 100 > endpoints.Length * (settings.MaxEjectionPercent ?? 10))
        {
            Log.EjectionCapped(_logger, outcome.Service.Name, endpoint.Id, settings.MaxEjectionPercent ?? 10);
            return;
        }

        var baseTime = settings.EjectionTime ?? TimeSpan.FromSeconds(30);
        var maxTime = settings.MaxEjectionTime ?? TimeSpan.FromTicks(baseTime.Ticks * 10);
        var time = TimeSpan.FromTicks(Math.Min(maxTime.Ticks, baseTime.Ticks * (endpoint.State.Ejections + 1)));
        var count = endpoint.State.Eject(now + (long)(time.TotalSeconds * _runtime.Time.TimestampFrequency));
        _ejections.Add(1, new KeyValuePair<string, object?>("mesh.service", outcome.Service.Name), new KeyValuePair<string, object?>("mesh.endpoint", endpoint.Id));
        Log.Ejected(_logger, outcome.Service.Name, endpoint.Id, time, count);
    }

    private bool FailureRatioReached(EndpointState state, OutlierDetectionDocument settings, long now)
        => settings.FailureRatio is { } ratio
            && _windows.Reached(state, ratio, settings.MinimumRequests ?? 10, settings.Interval ?? TimeSpan.FromSeconds(10), now);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Endpoint {Service}/{Endpoint} ejected for {Time} (ejection #{Count})")]
        public static partial void Ejected(ILogger logger, string service, string endpoint, TimeSpan time, int count);

        [LoggerMessage(2, LogLevel.Warning, "Endpoint {Service}/{Endpoint} keeps failing but is not ejected: {Percent}% of the service is ejected already")]
        public static partial void EjectionCapped(ILogger logger, string service, string endpoint, int percent);
    }
}
