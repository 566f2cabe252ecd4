using Mesh.Configuration;

namespace Mesh.Providers.Etcd;

/// <summary>
/// The last good parsed value of every key under the prefix, and the document they make together. A key whose new
/// value is invalid is rejected on its own (the reason reported against the key) and keeps its last good value;
/// the other keys apply.
/// </summary>
public sealed class EtcdDocumentState(EtcdKeys keys, MeshValidator validator)
{
    private readonly Dictionary<string, MeshSettings> _settings = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Service, string Id), EndpointDocument> _endpoints = [];
    private readonly Dictionary<string, PolicyDocument> _policies = new(StringComparer.Ordinal);

    /// <summary>Applies a put; returns the errors that rejected it (empty when accepted).</summary>
    public List<ValidationError> Put(string key, string value)
    {
        var errors = new List<ValidationError>();
        switch (keys.Parse(key))
        {
            case (EtcdKeyKind.Config, _, _):
                if (MeshJson.TryParseSettings(value, out var settings, out var error))
                {
                    validator.ValidateSettings(settings, "$", errors);
                    if (errors.Count == 0)
                    {
                        _settings[key] = settings;
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
                        _policies[service!] = policy;
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
                        _endpoints[(service!, id!)] = endpoint;
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
        switch (keys.Parse(key))
        {
            case (EtcdKeyKind.Config, _, _):
                _settings.Remove(key);
                break;
            case (EtcdKeyKind.Policy, var service, _):
                _policies.Remove(service!);
                break;
            case (EtcdKeyKind.Endpoint, var service, var id):
                _endpoints.Remove((service!, id!));
                break;
        }
    }

    /// <summary>The whole document of the current last-good values.</summary>
    public MeshDocument ToDocument()
    {
        var services = new Dictionary<string, ServiceDocument>(StringComparer.Ordinal);
        ServiceDocument Service(string name) => services.TryGetValue(name, out var s) ? s : services[name] = new ServiceDocument();

        // A service without endpoint keys has no endpoint list at all (not an empty one), so that under layering the
        // embedded file's endpoints of that service stay in force beneath an etcd policy.
        foreach (var ((service, _), endpoint) in _endpoints.OrderBy(e => e.Key.Service, StringComparer.Ordinal).ThenBy(e => e.Key.Id, StringComparer.Ordinal))
        {
            (Service(service).Endpoints ??= []).Add(endpoint);
        }

        foreach (var (service, policy) in _policies)
        {
            Service(service).Policy = policy;
        }

        return new MeshDocument { Mesh = _settings.Values.FirstOrDefault(), Services = services };
    }
}
