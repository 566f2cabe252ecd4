using System.Runtime.CompilerServices;
using System.Text.Json;
using Mesh.LoadBalancing;
using Mesh.Model;
using Mesh.Routing;
using Mesh.Runtime;

namespace Mesh.Configuration;

/// <summary>
/// Checks mesh documents before they are applied. The runtime, the providers and <c>meshctl validate</c>
/// share this one validator, so a document that passes here is one the runtime accepts.
/// </summary>
public sealed class MeshValidator
{
    /// <summary>Retry conditions understood by the resilience extension.</summary>
    public static readonly IReadOnlySet<string> RetryConditions =
        new HashSet<string>(StringComparer.Ordinal) { "connectFailure", "5xx", "gatewayError", "timeout", "grpcUnavailable", "429" };

    private const int MaxWeight = 1_000_000;
    private const int MaxAttemptsLimit = 10;

    private readonly LoadBalancerRegistry _balancers;
    private readonly IReadOnlyDictionary<string, Func<JsonElement, IEnumerable<string>>>? _extensionValidators;
    private readonly IReadOnlyDictionary<string, Func<PolicyDocument, IEnumerable<ValidationError>>>? _policyValidators;
    private readonly Action<string, Exception>? _onExtensionFailure;
    private const string ServicesPath = "$.services.";
    private ConditionalWeakTable<object, Remembered> _results = new();

    /// <summary>Creates a validator for the given balancers and extension settings validators.</summary>
    /// <param name="balancers">Known load balancers; <see cref="LoadBalancerRegistry.Default"/> when null.</param>
    /// <param name="extensionValidators">
    /// Validators of extension settings by extension name. Settings of an extension not listed are accepted: the
    /// same policy is read by every app of the mesh, and another app may run that extension.
    /// </param>
    /// <param name="onExtensionFailure">Told of an extension validator that threw (its name and the exception).</param>
    /// <param name="policyValidators">
    /// Checks of whole policies by extension name (<see cref="Extensibility.IPolicyValidator"/>), each run on the policies
    /// that passed the mesh's own checks.
    /// </param>
    public MeshValidator(LoadBalancerRegistry? balancers = null, IReadOnlyDictionary<string, Func<JsonElement, IEnumerable<string>>>? extensionValidators = null,
        Action<string, Exception>? onExtensionFailure = null, IReadOnlyDictionary<string, Func<PolicyDocument, IEnumerable<ValidationError>>>? policyValidators = null)
    {
        _balancers = balancers ?? LoadBalancerRegistry.Default;
        _extensionValidators = extensionValidators;
        _onExtensionFailure = onExtensionFailure;
        _policyValidators = policyValidators;
    }

    /// <summary>Validates a whole document.</summary>
    public IReadOnlyList<ValidationError> Validate(MeshDocument document) => Validate(document, null);

    /// <summary>
    /// Validates a whole document, leaving out the services <paramref name="inForce"/> says are in force as they are:
    /// the runtime does not judge again what it already runs when its checks change (an extension joining after the
    /// document); the extension treats settings it cannot use as unusable instead.
    /// </summary>
    internal IReadOnlyList<ValidationError> Validate(MeshDocument document, Func<string, ServiceDocument, bool>? inForce)
    {
        var errors = new List<ValidationError>();
        if (document.Mesh is { } settings)
        {
            ValidateSettings(settings, "$.mesh", errors);
        }

        if (document.Services is { } services)
        {
            foreach (var (name, service) in services)
            {
                // Looked up before the path is built: a thousand path strings per check were most of its cost.
                if (service is not null && inForce?.Invoke(name, service) == true)
                {
                    continue;
                }

                if (service is null || !Replay(Volatile.Read(ref _results), service, ServicesPath, name, errors))
                {
                    ValidateService(name, service, ServicesPath + name, errors);
                }
            }
        }

        return errors;
    }

    /// <summary>Validates mesh-wide settings.</summary>
    public void ValidateSettings(MeshSettings settings, string path, List<ValidationError> errors)
    {
        ValidateContextHeader(settings.LaneHeader, $"{path}.laneHeader", errors);
        ValidateContextHeader(settings.CallerHeader, $"{path}.callerHeader", errors);
        if (settings.CallerSigningKey is { Length: < CallerSignature.MinimumKeyLength })
        {
            errors.Add(new($"{path}.callerSigningKey", $"callerSigningKey must be at least {CallerSignature.MinimumKeyLength} characters"));
        }
        else if (settings.CallerSigningKey is { } key && key.Trim().Length < CallerSignature.MinimumKeyLength)
        {
            // Not echoed: it is a secret.
            errors.Add(new($"{path}.callerSigningKey", $"callerSigningKey must have at least {CallerSignature.MinimumKeyLength} characters that are not white space"));
        }

        ValidateExtensions(settings.Extensions, $"{path}.extensions", errors);
    }

    /// <summary>Validates one service: its name, endpoints and policy.</summary>
    public void ValidateService(string name, ServiceDocument? service, string path, List<ValidationError> errors)
    {
        // One table for the whole check: a result found with checks that changed meanwhile (Forget) goes into the
        // table being dropped, not the new one.
        var results = Volatile.Read(ref _results);
        if (service is null || !Replay(results, service, path, "", errors))
        {
            var from = errors.Count;
            ValidateServiceCore(name, service, path, errors);
            Remember(results, service, path, errors, from);
        }
    }

    private void ValidateServiceCore(string name, ServiceDocument? service, string path, List<ValidationError> errors)
    {
        if (!IsValidServiceName(name))
        {
            errors.Add(new(path, $"service name '{name}' is not a valid host name (letters, digits, '-', '.')"));
        }

        if (service is null)
        {
            errors.Add(new(path, "service is null"));
            return;
        }

        if (service.Endpoints is { } endpoints)
        {
            var ids = new HashSet<string>(StringComparer.Ordinal);
            long totalWeight = 0;
            var weightsValid = true;
            for (var i = 0; i < endpoints.Count; i++)
            {
                var endpointPath = $"{path}.endpoints[{i}]";
                var endpoint = endpoints[i];
                if (endpoint is null)
                {
                    errors.Add(new(endpointPath, "endpoint is null"));
                    continue;
                }

                ValidateEndpoint(endpoint, endpointPath, errors);
                if (endpoint.Id is { Length: > 0 } id && !ids.Add(id))
                {
                    errors.Add(new($"{endpointPath}.id", $"duplicate endpoint id '{id}' in service '{name}'"));
                }

                weightsValid &= endpoint.Weight is null or >= 0;
                totalWeight += Math.Max(0, endpoint.Weight ?? EndpointWeights.Default);
            }

            if (endpoints.Count > 0 && weightsValid && totalWeight == 0)
            {
                errors.Add(new($"{path}.endpoints", $"total weight of the endpoints of service '{name}' is 0: no endpoint could ever be picked"));
            }
        }

        if (service.Policy is { } policy)
        {
            ValidatePolicy(policy, $"{path}.policy", errors);
        }
    }

    /// <summary>Validates one endpoint document.</summary>
    public void ValidateEndpoint(EndpointDocument endpoint, string path, List<ValidationError> errors)
    {
        if (string.IsNullOrWhiteSpace(endpoint.Id))
        {
            errors.Add(new($"{path}.id", "endpoint id is required"));
        }

        if (string.IsNullOrWhiteSpace(endpoint.Address))
        {
            errors.Add(new($"{path}.address", "endpoint address is required"));
        }
        else if (!Uri.TryCreate(endpoint.Address, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add(new($"{path}.address", $"'{Shown(endpoint.Address)}' is not an absolute http or https address"));
        }
        else if (uri.UserInfo.Length > 0)
        {
            // Not echoed: the rejection is logged and shown by the admin endpoint, and user info is a credential.
            errors.Add(new($"{path}.address", "the address must not carry user info (credentials): scheme, host and port only"));
        }
        else if (uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            errors.Add(new($"{path}.address", $"'{Shown(endpoint.Address)}' must be scheme, host and port only (no path, query or fragment)"));
        }
        else if (uri.Port == 0)
        {
            errors.Add(new($"{path}.address", $"'{Shown(endpoint.Address)}' has port 0, which nothing listens on"));
        }

        foreach (var (tag, value) in endpoint.Tags ?? [])
        {
            // Tags go out in metrics and logs, where control characters (CR, LF) would forge lines; the lane tag also
            // goes out in a header, which takes printable ASCII only. The tag's name is not echoed: it may hold them.
            if (tag.Any(char.IsControl) || (value ?? "").Any(char.IsControl))
            {
                errors.Add(new($"{path}.tags", "a tag name or value holds control characters (such as CR or LF)"));
            }
            else if (tag == EndpointTags.Lane && (value ?? "").AsSpan().ContainsAnyExceptInRange(' ', '~'))
            {
                errors.Add(new($"{path}.tags.{tag}", "the lane must be printable ASCII: it is sent in a header"));
            }
        }

        if (endpoint.Weight is { } weight && (weight < 0 || weight > MaxWeight))
        {
            errors.Add(new($"{path}.weight", $"weight {weight} is out of range: 0 to {MaxWeight}"));
        }
    }

    /// <summary>Validates one policy document.</summary>
    public void ValidatePolicy(PolicyDocument policy, string path, List<ValidationError> errors)
    {
        var results = Volatile.Read(ref _results);
        if (!Replay(results, policy, path, "", errors))
        {
            var from = errors.Count;
            ValidatePolicyCore(policy, path, errors);
            Remember(results, policy, path, errors, from);
        }
    }

    /// <summary>
    /// Forgets every remembered result: the checks changed (an extension's validator joined the runtime's).
    /// </summary>
    internal void Forget() => Volatile.Write(ref _results, new ConditionalWeakTable<object, Remembered>());

    // A service or policy document object already checked (at the same path) is not checked again: a provider hands
    // over a new object for what changed and never changes one it handed over, so with a thousand services, one
    // endpoint's change costs the check of one service (and not even of its policy), not of the mesh.
    private static bool Replay(ConditionalWeakTable<object, Remembered> results, object document, string pathStart, string pathEnd, List<ValidationError> errors)
    {
        if (results.TryGetValue(document, out var remembered)
            && remembered.Path.Length == pathStart.Length + pathEnd.Length
            && remembered.Path.StartsWith(pathStart, StringComparison.Ordinal) && remembered.Path.EndsWith(pathEnd, StringComparison.Ordinal))
        {
            errors.AddRange(remembered.Errors);
            return true;
        }

        return false;
    }

    private static void Remember(ConditionalWeakTable<object, Remembered> results, object? document, string path, List<ValidationError> errors, int from)
    {
        if (document is not null)
        {
            results.AddOrUpdate(document, new Remembered(path, [.. errors.Skip(from)]));
        }
    }

    private void ValidatePolicyCore(PolicyDocument policy, string path, List<ValidationError> errors)
    {
        var before = errors.Count;
        if (policy.LoadBalancer is { } balancer)
        {
            var kind = balancer.Kind ?? RoundRobinLoadBalancer.KindName;
            if (!_balancers.TryGet(kind, out _))
            {
                errors.Add(new($"{path}.loadBalancer.kind", $"unknown load balancer '{kind}'; known: {string.Join(", ", _balancers.Names)}"));
            }

            if (kind == ConsistentHashLoadBalancer.KindName)
            {
                var on = balancer.HashOn;
                var count = on is null ? 0 : (on.Header is null ? 0 : 1) + (on.Cookie is null ? 0 : 1) + (on.Query is null ? 0 : 1);
                if (count != 1)
                {
                    errors.Add(new($"{path}.loadBalancer.hashOn", "consistentHash needs exactly one of hashOn.header, hashOn.cookie, hashOn.query"));
                }
            }
        }

        if (policy.Routes is { } routes)
        {
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < routes.Count; i++)
            {
                var routePath = $"{path}.routes[{i}]";
                if (routes[i] is not { } route)
                {
                    errors.Add(new(routePath, "route is null"));
                    continue;
                }

                if (route.Name is { } routeName && !names.Add(routeName))
                {
                    errors.Add(new($"{routePath}.name", $"duplicate route name '{routeName}'"));
                }

                ValidateRoute(route, routePath, errors);
            }
        }

        if (policy.Lane?.Fallback is { } fallback && fallback is not ("base" or "reject"))
        {
            errors.Add(new($"{path}.lane.fallback", $"unknown lane fallback '{fallback}'; use 'base' or 'reject'"));
        }

        if (policy.Retry is { } retry)
        {
            ValidateRetry(retry, $"{path}.retry", errors);
        }

        Positive(policy.Timeout, $"{path}.timeout", errors);

        if (policy.CircuitBreaker is { } breaker)
        {
            var breakerPath = $"{path}.circuitBreaker";
            if (breaker.FailureRatio is { } ratio && (ratio <= 0 || ratio > 1))
            {
                errors.Add(new($"{breakerPath}.failureRatio", $"failureRatio {ratio} must be in (0, 1]"));
            }

            if (breaker.MinimumThroughput is < 2)
            {
                errors.Add(new($"{breakerPath}.minimumThroughput", "minimumThroughput must be 2 or more"));
            }

            AtLeast(breaker.SamplingDuration, TimeSpan.FromMilliseconds(500), $"{breakerPath}.samplingDuration", errors);
            AtLeast(breaker.BreakDuration, TimeSpan.FromMilliseconds(500), $"{breakerPath}.breakDuration", errors);
            if (breaker.Scope is { } scope && scope is not ("service" or "endpoint"))
            {
                errors.Add(new($"{breakerPath}.scope", $"unknown scope '{scope}'; use 'service' or 'endpoint'"));
            }
        }

        if (policy.OutlierDetection is { } outlier)
        {
            var outlierPath = $"{path}.outlierDetection";
            if (outlier.ConsecutiveFailures is < 1)
            {
                errors.Add(new($"{outlierPath}.consecutiveFailures", "consecutiveFailures must be 1 or more"));
            }

            Positive(outlier.EjectionTime, $"{outlierPath}.ejectionTime", errors);
            Positive(outlier.MaxEjectionTime, $"{outlierPath}.maxEjectionTime", errors);
            if (outlier.MaxEjectionPercent is < 0 or > 100)
            {
                errors.Add(new($"{outlierPath}.maxEjectionPercent", "maxEjectionPercent must be 0 to 100"));
            }

            if (outlier.FailureRatio is <= 0 or > 1)
            {
                errors.Add(new($"{outlierPath}.failureRatio", "failureRatio must be in (0, 1]"));
            }

            if (outlier.MinimumRequests is < 1)
            {
                errors.Add(new($"{outlierPath}.minimumRequests", "minimumRequests must be 1 or more"));
            }

            Positive(outlier.Interval, $"{outlierPath}.interval", errors);
        }

        if (policy.Bulkhead is { } bulkhead)
        {
            if (bulkhead.MaxConcurrent is not >= 1)
            {
                errors.Add(new($"{path}.bulkhead.maxConcurrent", "maxConcurrent is required and must be 1 or more"));
            }

            if (bulkhead.MaxQueue is < 0)
            {
                errors.Add(new($"{path}.bulkhead.maxQueue", "maxQueue must be 0 or more"));
            }
        }

        if (policy.WarmUp is { } warmUp)
        {
            Positive(warmUp.Duration, $"{path}.warmUp.duration", errors);
            if (warmUp.Curve is <= 0 or > 10)
            {
                errors.Add(new($"{path}.warmUp.curve", "curve must be in (0, 10]"));
            }
        }

        // Only on a policy that passed the checks above: an extension's check builds its library's options from the
        // policy, and a value already rejected here would be reported twice, once in the library's words.
        if (errors.Count == before)
        {
            foreach (var name in _policyValidators?.Keys ?? [])
            {
                ValidatePolicyWith(name, policy, path, errors);
            }
        }

        ValidateExtensions(policy.Extensions, $"{path}.extensions", errors);
    }

    /// <summary>Validates request conditions (also used by extensions whose settings match requests).</summary>
    public static void ValidateMatch(MatchDocument match, string path, List<ValidationError> errors)
    {
        ArgumentNullException.ThrowIfNull(match);
        ValidateStringMatch(match.Method, $"{path}.method", errors);
        ValidateStringMatch(match.Path, $"{path}.path", errors);
        ValidateStringMatch(match.Lane, $"{path}.lane", errors);
        ValidateStringMatches(match.Headers, $"{path}.headers", errors);
        foreach (var header in match.Headers?.Keys ?? Enumerable.Empty<string>())
        {
            // Any HTTP token (RFC 9110: letters, digits and !#$%&'*+-.^_`|~; gRPC metadata keys use '.'); a name
            // with a space or a colon could never match.
            if (header.Length == 0 || !header.All(c => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal)))
            {
                errors.Add(new($"{path}.headers", $"'{Escaped(header)}' is not a valid header name"));
            }
        }

        ValidateStringMatches(match.Query, $"{path}.query", errors);
        ValidateStringMatches(match.Cookies, $"{path}.cookies", errors);
    }

    private static void ValidateRoute(RouteDocument route, string path, List<ValidationError> errors)
    {
        if (route.Match is { } match)
        {
            ValidateMatch(match, $"{path}.match", errors);
        }

        if (route.Destinations is not { Count: > 0 } destinations)
        {
            errors.Add(new($"{path}.destinations", "a route needs at least one destination"));
            return;
        }

        long total = 0;
        for (var i = 0; i < destinations.Count; i++)
        {
            var destinationPath = $"{path}.destinations[{i}]";
            if (destinations[i] is not { } destination)
            {
                errors.Add(new(destinationPath, "destination is null"));
                continue;
            }

            if (destination.Weight is { } weight && (weight < 0 || weight > MaxWeight))
            {
                errors.Add(new($"{destinationPath}.weight", $"weight {weight} is out of range: 0 to {MaxWeight}"));
            }

            total += Math.Max(0, destination.Weight ?? EndpointWeights.Default);
        }

        if (total == 0)
        {
            errors.Add(new($"{path}.destinations", "total weight of the destinations is 0: the route could never send anywhere"));
        }
    }

    private static void ValidateStringMatches(Dictionary<string, StringMatchDocument>? matches, string path, List<ValidationError> errors)
    {
        if (matches is null)
        {
            return;
        }

        foreach (var (name, match) in matches)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                errors.Add(new(path, "condition name is empty"));
            }

            if (match is null)
            {
                errors.Add(new($"{path}.{name}", "condition is null"));
                continue;
            }

            ValidateStringMatch(match, $"{path}.{name}", errors);
        }
    }

    private static void ValidateStringMatch(StringMatchDocument? match, string path, List<ValidationError> errors)
    {
        if (match is null)
        {
            return;
        }

        var operators = (match.Exact is null ? 0 : 1) + (match.Prefix is null ? 0 : 1) + (match.Regex is null ? 0 : 1)
            + (match.In is null ? 0 : 1) + (match.Present is null ? 0 : 1);
        if (operators != 1)
        {
            errors.Add(new(path, $"a condition needs exactly one of exact, prefix, regex, in, present; found {operators}"));
            return;
        }

        if (match.In is { } values && (values.Count == 0 || values.Any(v => v is null)))
        {
            errors.Add(new($"{path}.in", "'in' needs one or more non-null values"));
        }

        if (match.Regex is { } pattern && StringMatcher.ValidateRegex(pattern) is { } reason)
        {
            errors.Add(new($"{path}.regex", reason));
        }
    }

    private static void ValidateRetry(RetryDocument retry, string path, List<ValidationError> errors)
    {
        if (retry.MaxAttempts is { } attempts && (attempts < 1 || attempts > MaxAttemptsLimit))
        {
            errors.Add(new($"{path}.maxAttempts", $"maxAttempts {attempts} is out of range: 1 to {MaxAttemptsLimit}"));
        }

        if (retry.On is { } on)
        {
            foreach (var condition in on)
            {
                if (condition is null || !RetryConditions.Contains(condition))
                {
                    errors.Add(new($"{path}.on", $"unknown retry condition '{condition}'; known: {string.Join(", ", RetryConditions)}"));
                }
            }
        }

        if (retry.Backoff is { } backoff && backoff < TimeSpan.Zero)
        {
            errors.Add(new($"{path}.backoff", "backoff must not be negative"));
        }

        Positive(retry.PerTryTimeout, $"{path}.perTryTimeout", errors);
        if (retry.BudgetPercent is < 0 or > 100)
        {
            errors.Add(new($"{path}.budgetPercent", "budgetPercent must be 0 to 100"));
        }
    }

    /// <summary>
    /// The problems with extension <paramref name="name"/>'s settings in <paramref name="document"/> (mesh-wide and
    /// in every service's policy) and, for an extension that checks policies, with every service's policy as it sees
    /// it: for an extension that joins a runtime after the document was applied.
    /// </summary>
    public IReadOnlyList<ValidationError> ValidateExtension(MeshDocument document, string name)
    {
        ArgumentNullException.ThrowIfNull(document);
        var errors = new List<ValidationError>();
        if (document.Mesh?.Extensions?.TryGetValue(name, out var meshSettings) == true)
        {
            ValidateExtension(name, meshSettings, "$.mesh.extensions", errors);
        }

        foreach (var (service, definition) in document.Services ?? [])
        {
            if (definition?.Policy?.Extensions?.TryGetValue(name, out var settings) == true)
            {
                ValidateExtension(name, settings, $"$.services.{service}.policy.extensions", errors);
            }

            if (definition?.Policy is { } policy && _policyValidators?.ContainsKey(name) == true)
            {
                ValidatePolicyWith(name, policy, $"$.services.{service}.policy", errors);
            }
        }

        return errors;
    }

    private void ValidatePolicyWith(string name, PolicyDocument policy, string path, List<ValidationError> errors)
    {
        if (_policyValidators?.TryGetValue(name, out var validate) != true)
        {
            return;
        }

        try
        {
            errors.AddRange(validate!(policy).Select(e => e with { Path = $"{path}.{e.Path}" }));
        }
        catch (Exception ex)
        {
            // As for a settings validator that throws: the policy cannot be vouched for, so it is rejected.
            _onExtensionFailure?.Invoke(name, ex);
            errors.Add(new(path, $"the policy check of extension '{name}' failed ({ex.GetType().Name}: {ex.Message}); policy rejected"));
        }
    }

    private void ValidateExtensions(Dictionary<string, JsonElement>? extensions, string path, List<ValidationError> errors)
    {
        if (extensions is null || _extensionValidators is null)
        {
            return;
        }

        foreach (var (name, settings) in extensions)
        {
            ValidateExtension(name, settings, path, errors);
        }
    }

    private void ValidateExtension(string name, JsonElement settings, string path, List<ValidationError> errors)
    {
        if (_extensionValidators?.TryGetValue(name, out var validate) != true)
        {
            return;
        }

        try
        {
            foreach (var message in validate!(settings))
            {
                errors.Add(new($"{path}.{name}", message));
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            errors.Add(new($"{path}.{name}", ex.Message));
        }
        catch (Exception ex)
        {
            // A validator bug, not a bad document; still, the settings cannot be vouched for, so the document is
            // rejected like an invalid one rather than letting the exception unwind a provider's reload loop.
            _onExtensionFailure?.Invoke(name, ex);
            errors.Add(new($"{path}.{name}", $"the settings validator of extension '{name}' failed ({ex.GetType().Name}: {ex.Message}); settings rejected"));
        }
    }

    // Headers the HTTP stack owns, or that carry something else: a mesh context header there would forward the
    // inbound Host, break the message framing (every call answered 400), or leak credentials.
    private static readonly HashSet<string> ReservedHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "host", "transfer-encoding", "content-length", "content-type", "content-encoding", "connection", "keep-alive",
        "upgrade", "te", "trailer", "expect", "authorization", "proxy-authorization", "cookie", "set-cookie",
        "traceparent", "tracestate", "baggage",
    };

    /// <summary>
    /// An address as rejection messages may show it (they are logged, counted and served by the admin endpoint): user
    /// info and everything from the query on are cut, since they are where credentials and tokens travel
    /// (<c>https://svc:pw@host/?token=...</c> reads <c>https://(redacted)@host/(redacted)</c>).
    /// </summary>
    public static string Shown(string address)
    {
        ArgumentNullException.ThrowIfNull(address);

        // Up to the last '@': a password may itself hold '/', '#', '?' or '@'. An address with '@' in its path loses
        // more than it must, which is the safe side.
        var start = address.IndexOf("://", StringComparison.Ordinal) is var scheme and >= 0 ? scheme + 3 : 0;
        var at = address.LastIndexOf('@');
        var shown = at >= start ? address[..start] + "(redacted)" + address[at..] : address;
        var cut = shown.IndexOfAny(['?', '#'], at >= start ? start + "(redacted)".Length : start);
        return Escaped(cut >= 0 ? shown[..cut] + "(redacted)" : shown);
    }

    // What the configuration holds, made safe for a log line and a metric tag: control characters as \uXXXX.
    private static string Escaped(string text)
        => text.Any(char.IsControl) ? string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString())) : text;

    private static void ValidateContextHeader(string? name, string path, List<ValidationError> errors)
    {
        ValidateHeaderName(name, path, errors);
        if (name is not null && ReservedHeaders.Contains(name))
        {
            errors.Add(new(path, $"'{name}' is a header HTTP or tracing already uses; choose a header of the mesh's own (e.g. x-mesh-lane)"));
        }
    }

    private static void ValidateHeaderName(string? name, string path, List<ValidationError> errors)
    {
        if (name is not null && (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            errors.Add(new(path, $"'{name}' is not a valid header name"));
        }
    }

    private static void Positive(TimeSpan? value, string path, List<ValidationError> errors)
    {
        if (value is { } v && v <= TimeSpan.Zero)
        {
            errors.Add(new(path, $"{v} must be greater than zero"));
        }
    }

    private static void AtLeast(TimeSpan? value, TimeSpan minimum, string path, List<ValidationError> errors)
    {
        if (value is { } v && v < minimum)
        {
            errors.Add(new(path, $"{v} must be at least {minimum}"));
        }
    }

    /// <summary>
    /// The error for service <paramref name="name"/> beside <paramref name="other"/>, whose name differs only in case:
    /// host names ignore case, so the router would take them for one service and one would be lost.
    /// </summary>
    public static ValidationError DiffersOnlyInCase(string path, string name, string other)
        => new(path, $"service '{name}' differs only in case from service '{other}': host names ignore case, so they would be one service");

    /// <summary>True for names usable as the host of <c>http://{service}/</c>.</summary>
    public static bool IsValidServiceName(string name)
        => name.Length is > 0 and <= 253 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_');

    private sealed record Remembered(string Path, ValidationError[] Errors);
}
