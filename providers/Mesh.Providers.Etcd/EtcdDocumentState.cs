using System.Collections.Concurrent;
using Mesh.Configuration;

namespace Mesh.Providers.Etcd;

/// <summary>
/// The keys under the prefix, and the document they make together, kept per service so that one service's change
/// costs that service. Checks run at two levels, and a failure at either stays where it is:
/// <list type="bullet">
/// <item>a key's value on its own (<see cref="Put"/>): an invalid value is rejected and the key keeps its last good
/// value;</item>
/// <item>a service as a whole (<see cref="Commit"/>), its endpoints and policy together: a service the changed keys
/// make invalid (every endpoint at weight 0, say) keeps its last good document, and every other service moves on.
/// Once later keys make it valid again, it takes all of them.</item>
/// </list>
/// With <see cref="Scoped"/>, only the services taken in (<see cref="TakeIn"/>) are parsed, checked and put in the
/// document; the keys of the others are only kept, as etcd sent them, until a call takes the service in.
/// </summary>
public sealed class EtcdDocumentState(EtcdKeys keys, MeshValidator validator)
{
    private readonly Dictionary<string, MeshSettings> _settings = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServiceKeys> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServiceDocument> _inForce = new(StringComparer.Ordinal);

    // Host names ignore case: "ORDERS" beside "orders" would be one service to the router, so the later one is refused.
    private readonly Dictionary<string, string> _namesInForce = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, HashSet<string>> _changed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _inScope = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, string>> _outOfScope = new(StringComparer.Ordinal);

    // Every service with keys, in scope or not, by name ignoring case as hosts do; read by calling threads.
    private readonly ConcurrentDictionary<string, string> _known = new(StringComparer.OrdinalIgnoreCase);
    private bool _settingsChanged;

    /// <summary>True when a key that goes into the document changed since the last <see cref="Commit"/>.</summary>
    public bool HasChanges => _changed.Count > 0 || _settingsChanged;

    /// <summary>True when only the services taken in are put in the document; false (all of them) by default.</summary>
    public bool Scoped { get; init; }

    /// <summary>The <c>serviceName</c> of the mesh-wide settings, if they name one.</summary>
    public string? ServiceName => _settings.Values.FirstOrDefault()?.ServiceName;

    /// <summary>Applies a put; returns the errors that rejected the value on its own (empty when accepted).</summary>
    public List<ValidationError> Put(string key, string value)
    {
        var errors = new List<ValidationError>();
        var parsed = keys.Parse(key);
        if (parsed.Service is { } named)
        {
            _known.TryAdd(named, named);
            if (Scoped && !_inScope.Contains(named))
            {
                (_outOfScope.TryGetValue(named, out var kept) ? kept : _outOfScope[named] = new(StringComparer.Ordinal))[key] = value;
                return errors;
            }
        }

        switch (parsed)
        {
            case (EtcdKeyKind.Config, _, _):
                if (MeshJson.TryParseSettings(value, out var settings, out var error))
                {
                    validator.ValidateSettings(settings, "$", errors);
                    if (errors.Count == 0)
                    {
                        _settings[key] = settings;
                        _settingsChanged = true;
                    }
                }
                else
                {
                    errors.Add(error!);
                }

                break;
            case (EtcdKeyKind.Policy, var service, _):
                if (MeshJson.TryParsePolicy(value, out var policy, out error))
                {
                    validator.ValidatePolicy(policy, "$", errors);
                    if (errors.Count == 0)
                    {
                        Keys(service!, key).Policy = policy;
                    }
                }
                else
                {
                    errors.Add(error!);
                }

                break;
            case (EtcdKeyKind.Endpoint, var service, var id):
                if (MeshJson.TryParseEndpoint(value, out var endpoint, out error))
                {
                    if (endpoint.Id is null)
                    {
                        endpoint.Id = id;
                    }
                    else if (endpoint.Id != id)
                    {
                        errors.Add(new("$.id", $"id '{endpoint.Id}' differs from the id '{id}' in the key"));
                    }

                    validator.ValidateEndpoint(endpoint, "$", errors);
                    if (errors.Count == 0)
                    {
                        Keys(service!, key).Endpoints[id!] = endpoint;
                    }
                }
                else
                {
                    errors.Add(error!);
                }

                break;
            default:
                errors.Add(new("$", $"'{key}' is not a mesh key: expected {keys.Range}config, {keys.Range}services/{{service}}/policy or {keys.Range}services/{{service}}/endpoints/{{id}}"));
                break;
        }

        return errors;
    }

    /// <summary>Applies a delete.</summary>
    public void Delete(string key)
    {
        var parsed = keys.Parse(key);
        if (parsed.Service is { } named && _outOfScope.TryGetValue(named, out var kept))
        {
            kept.Remove(key);
            if (kept.Count == 0)
            {
                _outOfScope.Remove(named);
                _known.TryRemove(KeyValuePair.Create(named, named));
            }

            return;
        }

        switch (parsed)
        {
            case (EtcdKeyKind.Config, _, _):
                _settingsChanged |= _settings.Remove(key);
                break;
            case (EtcdKeyKind.Policy, var service, _):
                Keys(service!, key).Policy = null;
                break;
            case (EtcdKeyKind.Endpoint, var service, var id):
                Keys(service!, key).Endpoints.Remove(id!);
                break;
        }
    }

    /// <summary>
    /// Checks every service changed since the last commit as a whole and takes the valid ones into the document.
    /// </summary>
    /// <returns>The services refused: the keys that changed (the source to report) and why.</returns>
    public List<(string Keys, List<ValidationError> Errors)> Commit()
    {
        var refused = new List<(string, List<ValidationError>)>();

        // Services that lost their last key first: a name they free may be what kept another spelling of it out.
        var queue = _changed.Keys.OrderBy(n => _keys[n].Policy is not null || _keys[n].Endpoints.Count > 0).ThenBy(n => n, StringComparer.Ordinal).ToList();
        for (var i = 0; i < queue.Count; i++)
        {
            var name = queue[i];
            var changedKeys = _changed.TryGetValue(name, out var changed) ? changed : [keys.Service(name)];
            var serviceKeys = _keys[name];
            if (serviceKeys.Policy is null && serviceKeys.Endpoints.Count == 0)
            {
                _keys.Remove(name);
                _known.TryRemove(KeyValuePair.Create(name, name));
                if (_inForce.Remove(name))
                {
                    _namesInForce.Remove(name);

                    // Another spelling refused while this one was in force goes in now, if it still has keys.
                    foreach (var other in _keys.Keys.Where(o => string.Equals(o, name, StringComparison.OrdinalIgnoreCase) && !queue.Contains(o)))
                    {
                        _known.TryAdd(other, other);
                        queue.Add(other);
                    }
                }

                continue;
            }

            var errors = new List<ValidationError>();
            if (_namesInForce.TryGetValue(name, out var inForce) && !string.Equals(inForce, name, StringComparison.Ordinal))
            {
                errors.Add(MeshValidator.DiffersOnlyInCase("$", name, inForce));
            }

            // A service without endpoint keys has no endpoint list at all (not an empty one), so that under layering
            // the embedded file's endpoints of that service stay in force beneath an etcd policy.
            var candidate = new ServiceDocument
            {
                Endpoints = serviceKeys.Endpoints.Count == 0 ? null : [.. serviceKeys.Endpoints.Values],
                Policy = serviceKeys.Policy,
            };
            // At the path the runtime checks it at, so that the runtime's check of this same object is remembered.
            validator.ValidateService(name, candidate, $"$.services.{name}", errors);
            if (errors.Count == 0)
            {
                _inForce[name] = candidate;
                _namesInForce[name] = name;
            }
            else
            {
                refused.Add((Describe(changedKeys), errors));
            }
        }

        _changed.Clear();
        _settingsChanged = false;
        return refused;
    }

    /// <summary>The name of the service a host names (ignoring case), if any key names it, in scope or not.</summary>
    /// <remarks>Safe to call from any thread while the state changes; allocates nothing.</remarks>
    public bool TryFindService(ReadOnlySpan<char> host, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? service)
        => _known.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(host, out service);

    /// <summary>True when <paramref name="service"/> is put in the document (always, unless <see cref="Scoped"/>).</summary>
    public bool IsInScope(string service) => !Scoped || _inScope.Contains(service);

    /// <summary>
    /// Puts <paramref name="service"/> in scope: its kept keys are parsed and checked now (the next
    /// <see cref="Commit"/> checks the service as a whole), and its later keys as they come.
    /// </summary>
    /// <returns>The keys refused on their own, each with its errors.</returns>
    public List<(string Key, List<ValidationError> Errors)> TakeIn(string service)
    {
        var refused = new List<(string, List<ValidationError>)>();
        if (!_inScope.Add(service) || !_outOfScope.Remove(service, out var kept))
        {
            return refused;
        }

        foreach (var (key, value) in kept.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            if (Put(key, value) is { Count: > 0 } errors)
            {
                refused.Add((key, errors));
            }
        }

        return refused;
    }

    /// <summary>The document of what is in force (call <see cref="Commit"/> first); costs a copy of the service map.</summary>
    public MeshDocument ToDocument()
        => new() { Mesh = _settings.Values.FirstOrDefault(), Services = new Dictionary<string, ServiceDocument>(_inForce, StringComparer.Ordinal) };

    private ServiceKeys Keys(string service, string key)
    {
        if (!_keys.TryGetValue(service, out var serviceKeys))
        {
            _keys[service] = serviceKeys = new ServiceKeys();
        }

        if (!_changed.TryGetValue(service, out var changed))
        {
            _changed[service] = changed = new HashSet<string>(StringComparer.Ordinal);
        }

        changed.Add(key);
        return serviceKeys;
    }

    private static string Describe(HashSet<string> changed)
    {
        const int Named = 3;
        var named = string.Join(", ", changed.Order(StringComparer.Ordinal).Take(Named));
        return changed.Count > Named ? $"{named} and {changed.Count - Named} more" : named;
    }

    // The last good value of each key of one service; endpoints in id order, as the document lists them.
    private sealed class ServiceKeys
    {
        public SortedDictionary<string, EndpointDocument> Endpoints { get; } = new(StringComparer.Ordinal);

        public PolicyDocument? Policy { get; set; }
    }
}
