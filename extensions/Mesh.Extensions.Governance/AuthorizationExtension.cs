using System.Diagnostics.Metrics;
using System.Text.Json;
using Mesh.AspNetCore;
using Mesh.Configuration;
using Mesh.Extensibility;
using Mesh.Routing;
using Mesh.Runtime;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Mesh.Extensions.Governance;

/// <summary>Who may call: lists of caller service names, <c>anonymous</c> (no verified caller) or <c>*</c> (anyone).</summary>
public class CallerLists
{
    /// <summary>When not empty, only these callers pass.</summary>
    public List<string>? Allow { get; set; }

    /// <summary>These callers are refused, even when also allowed.</summary>
    public List<string>? Deny { get; set; }
}

/// <summary>Lists for the requests a <see cref="Match"/> selects; the first matching rule decides.</summary>
public sealed class AuthorizationRule : CallerLists
{
    /// <summary>The requests the rule is about (the same conditions as a route's).</summary>
    public MatchDocument? Match { get; set; }
}

/// <summary>Settings of <see cref="AuthorizationExtension"/>: <c>policy.extensions.authorization</c> of the called service.</summary>
public sealed class AuthorizationSettings : CallerLists
{
    /// <summary>Per-request rules, tried in order before the service-wide lists.</summary>
    public List<AuthorizationRule>? Rules { get; set; }
}

/// <summary>
/// Inbound caller authorization of a meshed ASP.NET Core service, from its own policy
/// (<c>policy.extensions.authorization</c>). The caller is the verified caller of the mesh context: with a
/// <c>callerSigningKey</c> in the mesh settings only a signed caller header counts, and a request whose caller header
/// is not validly signed (forged) is refused whatever the lists say. Settings that could not be loaded (invalid, in a
/// document applied before the extension joined the runtime) fail closed: every request is refused, until valid
/// settings arrive, unless <c>mesh.authorizationFailOpen</c> is true. A refused request is answered 403 and counted
/// in <c>mesh.authorization.denials</c>.
/// </summary>
public sealed partial class AuthorizationExtension : IInboundExtension, IConfigurableExtension
{
    /// <summary>The settings key.</summary>
    public const string ExtensionName = "authorization";

    /// <summary>The caller name of requests without a verified caller.</summary>
    public const string Anonymous = "anonymous";

    private readonly MeshRuntime _runtime;
    private readonly OwnServiceSettings<CompiledAuthorization> _settings;
    private readonly Counter<long> _denials;
    private readonly ILogger _logger;
    private object? _reportedUnusable;

    /// <summary>Creates the extension for <paramref name="runtime"/>.</summary>
    public AuthorizationExtension(MeshRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        _runtime = runtime;
        _settings = new(runtime, ExtensionName, new(ExtensionName, static element => new CompiledAuthorization(SettingsJson.Parse<AuthorizationSettings>(element)), ValidateSettings));
        _denials = runtime.Telemetry.Meter.CreateCounter<long>("mesh.authorization.denials", "{request}", "Inbound requests refused by caller authorization.");
        _logger = runtime.LoggerFactory.CreateLogger("Mesh.Authorization");
    }

    /// <inheritdoc />
    public string Name => ExtensionName;

    // Before rate limiting, so refused callers do not spend anyone's tokens.
    /// <inheritdoc />
    public int Order => 100;

    /// <inheritdoc />
    public IEnumerable<string> ValidateSettings(JsonElement settings) => SettingsJson.Validate<AuthorizationSettings>(settings, Validate);

    /// <inheritdoc />
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        _settings.TryGet(out var service, out var rules, out var unusable);
        var refusal = context.Features.Get<ForgedCallerFeature>() is not null ? "forged_caller"
            : rules is not null ? (rules.Allows(context.Request, MeshContext.Current?.Caller ?? Anonymous) ? null : "denied")
            : unusable && !FailsOpen(service) ? "invalid_settings"
            : null;
        if (refusal is not null)
        {
            _denials.Add(1, new KeyValuePair<string, object?>("mesh.service", service?.Name), new KeyValuePair<string, object?>("mesh.reason", refusal));
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return Task.CompletedTask;
        }

        // Handed on without a frame of its own: most requests of most services meet no rule.
        return next(context);
    }

    // Rules that could not be loaded may have been the only thing keeping callers out: without the operator's word
    // (mesh.authorizationFailOpen) the service is closed. Said once per compiled service (or, while the mesh has no
    // service of this app's name because its document was refused, once per snapshot), not per request.
    private bool FailsOpen(MeshService? service)
    {
        var snapshot = _runtime.Snapshot;
        var failOpen = snapshot.Document.Mesh?.AuthorizationFailOpen == true;
        object said = service ?? (object)snapshot;
        if (!ReferenceEquals(Volatile.Read(ref _reportedUnusable), said))
        {
            Volatile.Write(ref _reportedUnusable, said);
            var name = service?.Name ?? snapshot.ServiceName ?? _runtime.Options.ServiceName ?? "(this app)";
            if (failOpen)
            {
                Log.UnusableFailOpen(_logger, name);
            }
            else
            {
                Log.UnusableFailClosed(_logger, name);
            }
        }

        return failOpen;
    }

    private static IEnumerable<string> Validate(AuthorizationSettings settings)
    {
        var errors = new List<ValidationError>();
        for (var i = 0; i < (settings.Rules?.Count ?? 0); i++)
        {
            if (settings.Rules![i].Match is { } match)
            {
                MeshValidator.ValidateMatch(match, $"rules[{i}].match", errors);
            }
        }

        return errors.Select(e => $"{e.Path}: {e.Message}");
    }

    // Paths are matched the way the app's router may reach them: ignoring case unless a rule says otherwise, on the
    // path as it stands and, where it differs, on its alternate form (InboundRequestView.AlternatePath: %2F decoded,
    // // collapsed, trailing slash dropped); a request passes only if both readings pass, so that /ADMIN, //admin,
    // /%2Fadmin or /admin/ do not pass a rule about /admin, and a rule written with %2F keeps matching.
    private sealed class CompiledAuthorization(AuthorizationSettings settings)
    {
        private readonly (RequestMatcher Matcher, CallerLists Lists)[] _rules =
            [.. (settings.Rules ?? []).Select(r => (RequestMatcher.Create(IgnoringPathCase(r.Match)), (CallerLists)r))];

        private static MatchDocument? IgnoringPathCase(MatchDocument? match)
        {
            if (match?.Path is { } path)
            {
                path.IgnoreCase ??= true;
            }

            return match;
        }

        public bool Allows(HttpRequest request, string caller)
        {
            var view = new InboundRequestView(request);
            if (!Allows(ref view, caller))
            {
                return false;
            }

            if (_rules.Length == 0 || InboundRequestView.AlternatePath(request) is not { } alternate)
            {
                return true;
            }

            var alternateView = new InboundRequestView(request, alternate);
            return Allows(ref alternateView, caller);
        }

        private bool Allows(ref InboundRequestView view, string caller)
        {
            foreach (var (matcher, lists) in _rules)
            {
                if (matcher.Matches(ref view, MeshContext.Current?.Lane))
                {
                    return Allows(lists, caller);
                }
            }

            return Allows(settings, caller);
        }

        private static bool Allows(CallerLists lists, string caller)
        {
            static bool Lists(List<string>? names, string caller) => names is not null && (names.Contains("*") || names.Contains(caller));
            return !Lists(lists.Deny, caller) && (lists.Allow is not { Count: > 0 } || Lists(lists.Allow, caller));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "The authorization settings of service {Service} are invalid and could not be loaded: every request to it is refused (403) until valid settings arrive; mesh.authorizationFailOpen: true would let them through instead")]
        public static partial void UnusableFailClosed(ILogger logger, string service);

        [LoggerMessage(2, LogLevel.Error, "The authorization settings of service {Service} are invalid and could not be loaded: requests to it pass unchecked, as mesh.authorizationFailOpen is true")]
        public static partial void UnusableFailOpen(ILogger logger, string service);
    }
}
