using Mesh.Routing;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Providers.Etcd.Tests;

/// <summary>What the etcd tests share: provider options for a test etcd, endpoint values, and a routing probe.</summary>
internal static class EtcdTestOptions
{
    /// <summary>How long a change may take to arrive; generous, the machine is shared.</summary>
    public static readonly TimeSpan Converge = TimeSpan.FromSeconds(20);

    public static EtcdProviderOptions For(EtcdServer etcd, string prefix, string? cache = null)
    {
        var options = new EtcdProviderOptions { Prefix = prefix, CacheFile = cache, MaxBackoff = TimeSpan.FromMilliseconds(500) };
        foreach (var url in etcd.ClientUrls)
        {
            options.Endpoints.Add(url);
        }

        return options;
    }

    public static string Endpoint(string address, string extra = "") => $$"""{ "address": "{{address}}"{{extra}} }""";

    /// <summary>The id of the endpoint the runtime picks for a plain request to <paramref name="service"/>, or null.</summary>
    public static string? Pick(MeshRuntime runtime, string service = "orders")
    {
        var request = new TestRequest();
        var decision = runtime.Route(service, ref request, null);
        return decision.Status == RouteStatus.Routed ? decision.Endpoint!.Id : null;
    }
}
