using System.Diagnostics.Metrics;
using System.Net;
using System.Text.Json;
using Mesh.Configuration;
using Mesh.Extensibility;
using Mesh.Http;
using Mesh.Routing;
using Mesh.Runtime;

namespace Mesh.Extensions.Governance;

/// <summary>A delay added to a share of the calls.</summary>
public sealed class DelayFault
{
    /// <summary>Share of the matching calls delayed, 0 to 100.</summary>
    public double Percent { get; set; }

    /// <summary>How long.</summary>
    public TimeSpan Duration { get; set; }
}

/// <summary>An answer given in place of the service's for a share of the calls.</summary>
public sealed class AbortFault
{
    /// <summary>Share of the matching calls aborted, 0 to 100.</summary>
    public double Percent { get; set; }

    /// <summary>The HTTP status answered.</summary>
    public int Status { get; set; }
}

/// <summary>Settings of <see cref="FaultInjectionExtension"/>: <c>policy.extensions.faults</c> of the called service.</summary>
public sealed class FaultSettings
{
    /// <summary>Which calls may get a fault (all when absent).</summary>
    public MatchDocument? Match { get; set; }

    /// <summary>The delay, if any.</summary>
    public DelayFault? Delay { get; set; }

    /// <summary>The abort, if any; applied after the delay.</summary>
    public AbortFault? Abort { get; set; }
}

/// <summary>
/// Fault injection for chaos tests, on <c>IHttpClientFactory</c> clients: calls to a service whose policy has
/// <c>extensions.faults</c> are delayed and/or answered with an error status instead of reaching the service, for a
/// percentage of the calls that match. It runs inside the resilience handler, so retries and breakers see the
/// faults as they would see real ones. Aborted answers carry <c>x-mesh-fault: abort</c>; every fault is counted in
/// <c>mesh.faults.injected</c>.
/// </summary>
public sealed class FaultInjectionExtension : IOutboundExtension, IConfigurableExtension
{
    /// <summary>The settings key.</summary>
    public const string ExtensionName = "faults";

    private readonly ExtensionSettings<CompiledFaults> _settings;
    private readonly Func<double> _roll;
    private (MeshRuntime Runtime, Counter<long> Injected)? _counter;

    /// <summary>Creates the extension; faults hit calls at the configured percentages.</summary>
    public FaultInjectionExtension()
        : this(() => Random.Shared.NextDouble() * 100)
    {
    }

    /// <summary>Creates the extension with the source of the 0–100 rolls that decide which calls get a fault.</summary>
    public FaultInjectionExtension(Func<double> roll)
    {
        ArgumentNullException.ThrowIfNull(roll);
        _roll = roll;
        _settings = new(ExtensionName, static element => new CompiledFaults(SettingsJson.Parse<FaultSettings>(element)), ValidateSettings);
    }

    /// <inheritdoc />
    public string Name => ExtensionName;

    /// <inheritdoc />
    public int Order => 200;

    /// <inheritdoc />
    public IEnumerable<string> ValidateSettings(JsonElement settings) => SettingsJson.Validate<FaultSettings>(settings, Validate);

    /// <inheritdoc />
    public DelegatingHandler CreateHandler(MeshRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);

        // Handlers are rebuilt with every client pipeline; the instrument is made once per runtime.
        if (_counter is not { } counter || !ReferenceEquals(counter.Runtime, runtime))
        {
            counter = (runtime, runtime.Telemetry.Meter.CreateCounter<long>("mesh.faults.injected", "{fault}", "Faults injected into calls, by service and kind."));
            _counter = counter;
        }

        return new FaultHandler(runtime, this, counter.Injected);
    }

    private static IEnumerable<string> Validate(FaultSettings settings)
    {
        var errors = new List<ValidationError>();
        if (settings.Match is { } match)
        {
            MeshValidator.ValidateMatch(match, "match", errors);
        }

        if (settings.Delay is { } delay && (delay.Percent is < 0 or > 100 || delay.Duration <= TimeSpan.Zero))
        {
            errors.Add(new("delay", "percent must be 0 to 100 and duration positive"));
        }

        if (settings.Abort is { } abort && (abort.Percent is < 0 or > 100 || abort.Status is < 200 or > 599))
        {
            errors.Add(new("abort", "percent must be 0 to 100 and status an HTTP status (200 to 599)"));
        }

        if (settings.Delay is null && settings.Abort is null)
        {
            errors.Add(new("$", "set delay, abort or both"));
        }

        return errors.Select(e => $"{e.Path}: {e.Message}");
    }

    private sealed class CompiledFaults(FaultSettings settings)
    {
        public RequestMatcher Matcher { get; } = RequestMatcher.Create(settings.Match);

        public FaultSettings Settings { get; } = settings;
    }

    private sealed class FaultHandler(MeshRuntime runtime, FaultInjectionExtension extension, Counter<long> injected) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri is not { IsAbsoluteUri: true } uri || runtime.SnapshotFor(uri.Host) is not { Enabled: true } snapshot || !snapshot.TryGetService(uri.Host, out var service)
                || extension._settings.For(service) is not { } faults)
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }

            var view = new HttpRequestView(request, uri);
            if (!faults.Matcher.Matches(ref view, MeshContext.Current?.Lane))
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }

            if (faults.Settings.Delay is { } delay && extension._roll() < delay.Percent)
            {
                Count(service, "delay");
                await Task.Delay(delay.Duration, runtime.Time, cancellationToken).ConfigureAwait(false);
            }

            if (faults.Settings.Abort is { } abort && extension._roll() < abort.Percent)
            {
                Count(service, "abort");
                var response = new HttpResponseMessage((HttpStatusCode)abort.Status) { RequestMessage = request, Content = new StringContent("fault injected by the mesh") };
                response.Headers.TryAddWithoutValidation("x-mesh-fault", "abort");
                return response;
            }

            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        private void Count(MeshService service, string kind)
            => injected.Add(1, new KeyValuePair<string, object?>("mesh.service", service.Name), new KeyValuePair<string, object?>("mesh.fault", kind));
    }
}
