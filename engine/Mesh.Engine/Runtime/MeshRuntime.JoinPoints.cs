using Mesh.Extensibility;
using Mesh.Model;
using Mesh.Routing;

namespace Mesh.Runtime;

// The routing join points of extensions: route filters (before the pick) and pick observers (after it).
public sealed partial class MeshRuntime
{
    // One exclusion list per thread, reused from request to request so that filtering allocates nothing. It is
    // taken out while in use: a filter that itself makes a routed call gets a list of its own.
    [ThreadStatic]
    private static List<Endpoint>? t_filtered;

    private IRouteFilter[] _routeFilters = [];
    private IPickObserver[] _pickObservers = [];

    /// <summary>
    /// Tells every <see cref="IPickObserver"/> which endpoint <paramref name="decision"/> picked for
    /// <paramref name="request"/>, each isolated: one that throws is reported and the request goes on.
    /// </summary>
    public void OnPicked(in RouteDecision decision, HttpRequestMessage request)
    {
        foreach (var observer in Volatile.Read(ref _pickObservers))
        {
            try
            {
                observer.OnPicked(decision, request);
            }
            catch (Exception ex)
            {
                ReportExtensionFailure(observer.Name, ex);
            }
        }
    }

    private void JoinRouting(IMeshExtension extension)
    {
        lock (_applyLock)
        {
            if (extension is IRouteFilter filter)
            {
                _routeFilters = [.. _routeFilters.Append(filter).OrderBy(f => f.Order)];
            }

            if (extension is IPickObserver observer)
            {
                _pickObservers = [.. _pickObservers.Append(observer).OrderBy(o => o.Order)];
            }
        }
    }

    // The endpoints to avoid for this request: those already tried, and those a filter excludes. Null when the host
    // is not a routed service. A filter that throws is skipped whole, its exclusions so far dropped.
    private List<Endpoint>? Filter<TRequest>(IRouteFilter[] filters, MeshSnapshot snapshot, ReadOnlySpan<char> host, ref TRequest request, IReadOnlyList<Endpoint>? excluded)
        where TRequest : struct, IRouteRequest
    {
        if (!snapshot.Enabled || !snapshot.TryGetService(host, out var service))
        {
            return null;
        }

        var list = t_filtered ?? [];
        t_filtered = null;
        for (var i = 0; i < (excluded?.Count ?? 0); i++)
        {
            list.Add(excluded![i]);
        }

        foreach (var filter in filters)
        {
            var before = list.Count;
            try
            {
                foreach (var endpoint in service.Endpoints)
                {
                    if (filter.Excludes(service, endpoint, ref request))
                    {
                        list.Add(endpoint);
                    }
                }
            }
            catch (Exception ex)
            {
                list.RemoveRange(before, list.Count - before);
                ReportExtensionFailure(filter.Name, ex);
            }
        }

        return list;
    }

    private static void ReturnFiltered(List<Endpoint>? list)
    {
        if (list is not null)
        {
            list.Clear();
            t_filtered = list;
        }
    }
}
