using Mesh.Configuration;

namespace Mesh.Runtime;

/// <summary>
/// Extension settings offered for a service and refused, by where they came from (a layer's document, an etcd key),
/// until that source offers something the runtime accepts. An extension that guards access asks it when a service has
/// no settings of its in force: rules that were refused may have been the only thing keeping callers out, so it fails
/// closed rather than treating them as never written.
/// </summary>
public sealed class RefusedSettings
{
    private static readonly Dictionary<string, Dictionary<string, HashSet<string>>> None = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    // source -> service -> extensions; replaced whole on every change (refusals are rare), read without a lock.
    private Dictionary<string, Dictionary<string, HashSet<string>>> _bySource = None;

    /// <summary>True when settings of <paramref name="extension"/> for <paramref name="service"/> were refused and not yet superseded.</summary>
    /// <remarks>Asked on every request of a service without settings: no lock and no allocation.</remarks>
    public bool IsRefused(string service, string extension)
    {
        var bySource = Volatile.Read(ref _bySource);
        if (bySource.Count == 0)
        {
            return false;
        }

        foreach (var services in bySource.Values)
        {
            if (services.TryGetValue(service, out var extensions) && extensions.Contains(extension))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Records the extensions whose settings in <paramref name="service"/>'s policy (at <paramref name="policyPath"/>
    /// in the refused document) have errors among <paramref name="errors"/>, as offered by <paramref name="source"/>.
    /// Replaces what that source offered before.
    /// </summary>
    public void Refused(string source, string service, IEnumerable<ValidationError> errors, string policyPath)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var prefix = policyPath + ".extensions.";
        var extensions = new HashSet<string>(StringComparer.Ordinal);
        foreach (var error in errors)
        {
            if (error.Path.StartsWith(prefix, StringComparison.Ordinal))
            {
                var name = error.Path.AsSpan(prefix.Length);
                var end = name.IndexOfAny('.', '[');
                extensions.Add((end < 0 ? name : name[..end]).ToString());
            }
        }

        lock (_gate)
        {
            // A refused document names every service it holds: most have nothing to record and nothing to take back.
            if (extensions.Count == 0 && !(_bySource.TryGetValue(source, out var recorded) && recorded.ContainsKey(service)))
            {
                return;
            }

            var next = new Dictionary<string, Dictionary<string, HashSet<string>>>(_bySource, StringComparer.Ordinal);
            var services = next.TryGetValue(source, out var kept) ? new Dictionary<string, HashSet<string>>(kept, StringComparer.OrdinalIgnoreCase) : new(StringComparer.OrdinalIgnoreCase);
            if (extensions.Count == 0)
            {
                services.Remove(service);
            }
            else
            {
                services[service] = extensions;
            }

            if (services.Count == 0)
            {
                next.Remove(source);
            }
            else
            {
                next[source] = services;
            }

            Volatile.Write(ref _bySource, next);
        }
    }

    /// <summary>The sources with refused settings on record.</summary>
    public IReadOnlyCollection<string> Sources => Volatile.Read(ref _bySource).Keys;

    /// <summary><paramref name="source"/> offered something the runtime accepted: what it offered before is superseded.</summary>
    public void Accepted(string source)
    {
        if (!Volatile.Read(ref _bySource).ContainsKey(source))
        {
            return;
        }

        lock (_gate)
        {
            var next = new Dictionary<string, Dictionary<string, HashSet<string>>>(_bySource, StringComparer.Ordinal);
            next.Remove(source);
            Volatile.Write(ref _bySource, next);
        }
    }
}
