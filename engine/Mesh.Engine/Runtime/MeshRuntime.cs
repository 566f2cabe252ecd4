using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Mesh.Configuration;
using Mesh.Extensibility;
using Mesh.LoadBalancing;
using Mesh.Model;
using Mesh.Providers;
using Mesh.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mesh.Runtime;

/// <summary>
/// The heart of a meshed process: holds the current <see cref="MeshSnapshot"/>, accepts new configuration from
/// providers (validate, compile, swap; reject with a reason and keep the last good), routes requests, and fans
/// call outcomes out to observers.
/// </summary>
public sealed partial class MeshRuntime : IDisposable
{
    private const int RecentRejectionCapacity = 50;

    private readonly SnapshotCompiler _compiler;
    private readonly ILogger _logger;
    private readonly Lock _applyLock = new();
    private readonly Queue<ConfigRejection> _recentRejections = new();
    private readonly ConcurrentDictionary<string, Func<JsonElement, IEnumerable<string>>> _extensionValidators = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Func<PolicyDocument, IEnumerable<ValidationError>>> _policyValidators = new(StringComparer.Ordinal);
    private MeshSnapshot _snapshot = MeshSnapshot.Empty;
    private Dictionary<MeshConfigLayer, MeshDocument> _layers = [];
    private IOutcomeObserver[] _observers = [];
    private IMeshExtension[] _extensions = [];
    private IServiceDemand? _demand;

    /// <summary>Creates a runtime with an empty snapshot (every call passes through until configuration arrives).</summary>
    public MeshRuntime(MeshRuntimeOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? time = null, IMeterFactory? meterFactory = null)
    {
        Options = options ?? new MeshRuntimeOptions();
        Time = time ?? TimeProvider.System;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = LoggerFactory.CreateLogger("Mesh.Runtime");
        Telemetry = new MeshTelemetry(meterFactory);
        foreach (var (name, validate) in Options.ExtensionValidators ?? new Dictionary<string, Func<JsonElement, IEnumerable<string>>>())
        {
            _extensionValidators[name] = validate;
        }

        Validator = new MeshValidator(Options.LoadBalancers, _extensionValidators, ReportExtensionFailure, _policyValidators);
        _compiler = new SnapshotCompiler(Options.LoadBalancers, Time);
        Telemetry.Meter.CreateObservableGauge("mesh.snapshot.version", () => Snapshot.Version, "{version}", "Version of the configuration snapshot in force.");
    }

    /// <summary>Raised after a new snapshot is in force. Handlers run on the applying thread and must not throw.</summary>
    public event EventHandler<MeshSnapshot>? SnapshotChanged;

    /// <summary>The options the runtime was created with.</summary>
    public MeshRuntimeOptions Options { get; }

    /// <summary>The configuration in force. One volatile read; never null.</summary>
    public MeshSnapshot Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>The validator providers and tools share.</summary>
    public MeshValidator Validator { get; }

    /// <summary>The clock of all mesh logic.</summary>
    public TimeProvider Time { get; }

    /// <summary>The logger factory of the mesh.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Meter and activity source.</summary>
    public MeshTelemetry Telemetry { get; }

    /// <summary>
    /// Extension settings refused for a service and not yet superseded: documents this runtime refused, and what
    /// providers refused on their own (an etcd key) report here too.
    /// </summary>
    public RefusedSettings RefusedSettings { get; } = new();

    /// <summary>The most recent rejected documents, newest last.</summary>
    public IReadOnlyList<ConfigRejection> RecentRejections
    {
        get
        {
            lock (_applyLock)
            {
                return [.. _recentRejections];
            }
        }
    }

    /// <summary>Parses, validates and applies a whole mesh document from <paramref name="source"/> in the default layer.</summary>
    /// <returns>The errors that rejected it; empty when it was applied.</returns>
    public IReadOnlyList<ValidationError> ApplyJson(string json, string source) => ApplyJson(json, source, MeshConfigLayer.Default);

    /// <summary>Parses a document and applies it as the new content of <paramref name="layer"/>.</summary>
    /// <returns>The errors that rejected it; empty when it was applied.</returns>
    public IReadOnlyList<ValidationError> ApplyJson(string json, string source, MeshConfigLayer layer)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (!MeshJson.TryParseDocument(json, out var document, out var error))
        {
            ReportRejections(source, [error!]);
            return [error!];
        }

        return Apply(document, source, layer);
    }

    /// <summary>Validates and applies a document in the default layer; on any error nothing changes and the errors are reported.</summary>
    /// <returns>The errors that rejected it; empty when it was applied.</returns>
    public IReadOnlyList<ValidationError> Apply(MeshDocument document, string source) => Apply(document, source, MeshConfigLayer.Default);

    /// <summary>
    /// Makes <paramref name="document"/> the content of <paramref name="layer"/> and applies the merge of all layers
    /// (see <see cref="MeshConfigLayer"/>). The document is validated on its own and then the merge as a whole: on any
    /// error nothing changes, the errors are reported against <paramref name="source"/>, and the layer keeps its
    /// previous good document.
    /// </summary>
    /// <returns>The errors that rejected it; empty when it was applied.</returns>
    /// <remarks>
    /// A document is not to be changed once applied: what was validated and compiled from each service object is
    /// kept and reused while the same object comes again, so an edit made in place would be ignored. Apply a new
    /// object (a new <see cref="ServiceDocument"/> for each changed service) instead.
    /// </remarks>
    public IReadOnlyList<ValidationError> Apply(MeshDocument document, string source, MeshConfigLayer layer)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(layer);

        // The layer on its own first: a bad part that a higher layer hides now would surface, unvalidated, the day
        // that layer drops its value. Both validations and the compile cost what changed since the last apply
        // (MeshValidator and SnapshotCompiler remember by object): the services that did not change are the same objects.
        IReadOnlyList<ValidationError> errors;
        MeshSnapshot? snapshot = null;
        lock (_applyLock)
        {
            errors = Validator.Validate(document, InForce);
            if (errors.Count == 0)
            {
                // Under the lock: two sources applying at once must each merge over the other's latest layer.
                var layers = new Dictionary<MeshConfigLayer, MeshDocument>(_layers) { [layer] = document };
                var merged = MeshDocumentMerger.Merge(
                    layers.OrderBy(l => l.Key.Order).ThenBy(l => l.Key.Name, StringComparer.Ordinal).Select(l => l.Value), _snapshot.Document);
                errors = Validator.Validate(merged, InForce);
                if (errors.Count == 0)
                {
                    _layers = layers;
                    snapshot = _compiler.Compile(merged, _snapshot.Version + 1, Options.ServiceName);
                    Volatile.Write(ref _snapshot, snapshot);
                }
            }
        }

        var layerSource = "layer:" + layer.Name;
        if (snapshot is null)
        {
            ReportRejections(source, errors);
            foreach (var name in document.Services?.Keys ?? Enumerable.Empty<string>())
            {
                RefusedSettings.Refused(layerSource, name, errors, $"$.services.{name}.policy");
            }

            return errors;
        }

        RefusedSettings.Accepted(layerSource);

        Log.Applied(_logger, snapshot.Version, source, snapshot.Services.Count);
        RaiseSnapshotChanged(snapshot);
        return [];
    }

    // A service object the snapshot runs already: not judged again when checks joined after it was applied.
    private bool InForce(string name, ServiceDocument service)
        => _snapshot.Services.TryGetValue(name, out var running) && ReferenceEquals(running.Source, service);

    /// <summary>
    /// Logs and counts (<c>mesh.provider.failures</c>) an unexpected failure of a configuration source, which
    /// keeps the last good configuration and goes on.
    /// </summary>
    public void ReportProviderFailure(string source, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        Log.ProviderFailed(_logger, source, exception);
        CountProviderFailure(source, exception);
    }

    /// <summary>
    /// Logs and counts (<c>mesh.provider.failures</c>) a configuration source that could not be built or started:
    /// the mesh goes on without it, on the other sources. Never throws.
    /// </summary>
    public void ReportProviderStartFailure(string source, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);

        // Called from the catch blocks that keep a broken source from failing the app's start: a logger provider or
        // metric listener that throws as well must not undo that.
        try
        {
            Log.ProviderStartFailed(_logger, source, exception);
            CountProviderFailure(source, exception);
        }
        catch (Exception)
        {
            // Nothing left to report it to.
        }
    }

    /// <summary>
    /// Records documents a provider rejected on its own (a single etcd key, say) while the rest applied:
    /// one log line and one metric per error, and an entry in <see cref="RecentRejections"/>.
    /// </summary>
    public void ReportRejections(string source, IEnumerable<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        foreach (var error in errors)
        {
            Log.Rejected(_logger, source, error.Path, error.Message, Snapshot.Version);
            Telemetry.Rejections.Add(1, new KeyValuePair<string, object?>("mesh.source", source), new KeyValuePair<string, object?>("mesh.key", error.Path));
            lock (_applyLock)
            {
                _recentRejections.Enqueue(new ConfigRejection(Time.GetUtcNow(), source, error));
                while (_recentRejections.Count > RecentRejectionCapacity)
                {
                    _recentRejections.Dequeue();
                }
            }
        }
    }

    /// <summary>Routes a request on the snapshot in force.</summary>
    public RouteDecision Route<TRequest>(ReadOnlySpan<char> host, ref TRequest request, string? lane, IReadOnlyList<Endpoint>? excluded = null)
        where TRequest : struct, IRouteRequest
    {
        var snapshot = SnapshotFor(host);
        var filtered = Volatile.Read(ref _routeFilters) is { Length: > 0 } filters ? Filter(filters, snapshot, host, ref request, excluded) : null;
        var decision = snapshot.Route(host, ref request, lane, Time.GetTimestamp(), filtered ?? excluded);
        ReturnFiltered(filtered);
        if (decision.Status is RouteStatus.NoEndpoint or RouteStatus.LaneRejected)
        {
            Telemetry.RoutingFailures.Add(1, new KeyValuePair<string, object?>("mesh.service", decision.Service!.Name),
                new KeyValuePair<string, object?>("mesh.reason", decision.Status == RouteStatus.NoEndpoint ? "no_endpoint" : "lane_rejected"));
        }

        return decision;
    }

    /// <summary>
    /// The snapshot to handle a call to <paramref name="host"/> on: the one in force, or, when that does not know the
    /// host and a scoped source holds it (<see cref="IServiceDemand"/>), the one that has just taken it in. Whatever
    /// looks a call's service up before routing it (a handler, the listener's first test) uses this.
    /// </summary>
    public MeshSnapshot SnapshotFor(ReadOnlySpan<char> host)
    {
        var snapshot = Snapshot;
        return Volatile.Read(ref _demand) is { } demand && snapshot.Enabled && !snapshot.TryGetService(host, out _) && TakeIn(demand, host)
            ? Snapshot
            : snapshot;
    }

    /// <summary>
    /// Makes <paramref name="demand"/> the source asked about hosts the snapshot does not know (see
    /// <see cref="IServiceDemand"/>); one per runtime, the last set wins; null removes it.
    /// </summary>
    public void SetServiceDemand(IServiceDemand? demand) => Volatile.Write(ref _demand, demand);

    private bool TakeIn(IServiceDemand demand, ReadOnlySpan<char> host)
    {
        try
        {
            return demand.TryTakeIn(host);
        }
        catch (Exception ex)
        {
            // Listeners fail open: the call goes on unmeshed rather than failing on the mesh's account.
            ReportExtensionFailure(demand.GetType().Name, ex);
            return false;
        }
    }

    /// <summary>Adds an observer of call outcomes.</summary>
    /// <remarks>
    /// An observer type joins once: the startup hook and the app's own registration may both offer the same
    /// extension, and counting every outcome twice would eject endpoints at half their thresholds.
    /// </remarks>
    /// <returns>False when an observer of the same type was already added.</returns>
    public bool AddObserver(IOutcomeObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        lock (_applyLock)
        {
            if (Array.Exists(_observers, o => o.GetType() == observer.GetType()))
            {
                return false;
            }

            _observers = [.. _observers, observer];
            return true;
        }
    }

    /// <summary>The extensions joined to this runtime with <see cref="AddExtension"/>, in the order they joined.</summary>
    public IReadOnlyList<IMeshExtension> Extensions => Volatile.Read(ref _extensions);

    /// <summary>
    /// Joins an extension to this runtime: its settings (<see cref="IConfigurableExtension"/>) and the policies it carries
    /// out (<see cref="IPolicyValidator"/>) are validated in every document applied from now on, and it observes call outcomes (<see cref="IOutcomeObserver"/>). It is
    /// kept in <see cref="Extensions"/> so that hosts built later on this runtime (an ASP.NET Core app under the
    /// startup hook) add the same instance to their pipelines. An extension type joins once.
    /// </summary>
    /// <returns>False when an extension of the same type had joined.</returns>
    public bool AddExtension(IMeshExtension extension)
    {
        ArgumentNullException.ThrowIfNull(extension);
        lock (_applyLock)
        {
            if (Array.Exists(_extensions, e => e.GetType() == extension.GetType()))
            {
                return false;
            }

            _extensions = [.. _extensions, extension];
        }

        if (extension is IConfigurableExtension configurable)
        {
            AddExtensionValidator(configurable.Name, configurable.ValidateSettings);
        }

        if (extension is IPolicyValidator policyValidator)
        {
            _policyValidators[policyValidator.Name] = policyValidator.ValidatePolicy;
            ReportInvalidInForce(policyValidator.Name);
        }

        if (extension is IOutcomeObserver observer)
        {
            AddObserver(observer);
        }

        JoinRouting(extension);
        return true;
    }

    /// <summary>
    /// Validates the settings of extension <paramref name="name"/> (under <c>policy.extensions</c> and
    /// <c>mesh.extensions</c>) in every document applied from now on; invalid settings reject the document. Settings
    /// in the document already in force (applied before the extension joined, as under the startup hook) are checked
    /// at once and the invalid ones reported as rejections from source <c>extension:{name}</c>; that document stays
    /// in force, and the extension is expected to treat its invalid settings as absent (see
    /// <see cref="ExtensionSettings{T}"/>).
    /// </summary>
    public void AddExtensionValidator(string name, Func<JsonElement, IEnumerable<string>> validate)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(validate);
        _extensionValidators[name] = validate;
        ReportInvalidInForce(name);
    }

    // The document in force was applied without the extension's checks: what they find wrong is reported, the document
    // stays (it cannot be taken back), and the extension treats what it cannot use as absent. Results remembered from
    // before the checks joined no longer hold.
    private void ReportInvalidInForce(string name)
    {
        Validator.Forget();
        if (Validator.ValidateExtension(Snapshot.Document, name) is { Count: > 0 } errors)
        {
            ReportRejections($"extension:{name}", errors);
        }
    }

    /// <summary>Marks a call to <paramref name="endpoint"/> as started (feeds <c>leastRequest</c>).</summary>
    public static void OnCallStarted(Endpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        endpoint.State.OnStarted();
    }

    /// <summary>
    /// Takes a call to <paramref name="endpoint"/> out of its in-flight count (see
    /// <see cref="EndpointState.LeaveInFlight"/>): before its outcome is known, which is reported later with
    /// <see cref="OnCallCompleted(in CallOutcome, bool)"/>, or for good when its outcome will never be known and nothing
    /// was learned about the endpoint.
    /// </summary>
    public static void OnCallLeftInFlight(Endpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        endpoint.State.LeaveInFlight();
    }

    /// <summary>Reports how a call ended: endpoint counters, metrics, then every observer, each isolated.</summary>
    public void OnCallCompleted(in CallOutcome outcome) => OnCallCompleted(outcome, answered: false);

    /// <summary>
    /// Reports how a call ended, as <see cref="OnCallCompleted(in CallOutcome)"/>; <paramref name="answered"/> when
    /// <see cref="OnCallLeftInFlight"/> already took it out of the in-flight count.
    /// </summary>
    public void OnCallCompleted(in CallOutcome outcome, bool answered)
    {
        outcome.Endpoint.State.OnCompleted(outcome.IsFailure, answered);
        var requests = Telemetry.Requests;
        var duration = Telemetry.Duration;

        // Every call passes here: with no metric listener the tags are not even built.
        if (requests.Enabled || duration.Enabled)
        {
            var tags = new TagList
            {
                { "mesh.service", outcome.Service.Name },
                { "mesh.endpoint", outcome.Endpoint.Id },
                { "mesh.route", outcome.Route },
                { "mesh.outcome", OutcomeName(outcome.Kind) },
            };
            requests.Add(1, tags);
            duration.Record(outcome.Duration.TotalSeconds, tags);
        }

        foreach (var observer in Volatile.Read(ref _observers))
        {
            try
            {
                observer.OnOutcome(outcome);
            }
            catch (Exception ex)
            {
                ReportExtensionFailure(observer.GetType().Name, ex);
            }
        }
    }

    /// <summary>Logs and counts an exception thrown by an extension, which the mesh then skips.</summary>
    public void ReportExtensionFailure(string extension, Exception exception)
    {
        // Called from the catch blocks that keep a failure away from the app: a logger provider or metric listener
        // that throws as well must not undo that.
        try
        {
            Log.ExtensionFailed(_logger, extension, exception);
            Telemetry.ExtensionFailures.Add(1, new KeyValuePair<string, object?>("mesh.extension", extension));
        }
        catch (Exception)
        {
            // Nothing left to report it to.
        }
    }

    /// <inheritdoc />
    public void Dispose() => Telemetry.Dispose();

    private void CountProviderFailure(string source, Exception exception)
        => Telemetry.ProviderFailures.Add(1, new KeyValuePair<string, object?>("mesh.source", source),
            new KeyValuePair<string, object?>("mesh.reason", exception.GetType().Name));

    /// <summary>The <c>mesh.outcome</c> tag value of an outcome.</summary>
    public static string OutcomeName(OutcomeKind kind) => kind switch
    {
        OutcomeKind.Success => "success",
        OutcomeKind.ServerError => "server_error",
        OutcomeKind.ConnectFailure => "connect_failure",
        OutcomeKind.Timeout => "timeout",
        OutcomeKind.Canceled => "canceled",
        _ => "grpc_failure",
    };

    private void RaiseSnapshotChanged(MeshSnapshot snapshot)
    {
        if (SnapshotChanged is not { } handlers)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<MeshSnapshot>>())
        {
            try
            {
                handler(this, snapshot);
            }
            catch (Exception ex)
            {
                ReportExtensionFailure(handler.Method.DeclaringType?.Name ?? "snapshot handler", ex);
            }
        }
    }
}

/// <summary>A rejected document, kept for the admin endpoint and <c>meshctl</c>.</summary>
/// <param name="At">When it was rejected.</param>
/// <param name="Source">The file or etcd key it came from.</param>
/// <param name="Error">Where and why.</param>
public sealed record ConfigRejection(DateTimeOffset At, string Source, ValidationError Error);
