using Mesh.Testing;

namespace Mesh.Cli.Tests;

/// <summary>One real etcd shared by the tests of a class; tests keep apart by using their own key prefix.</summary>
public sealed class EtcdFixture : IAsyncLifetime
{
    private EtcdServer? _server;

    /// <summary>The client URL of the etcd.</summary>
    public string Endpoint => _server!.Endpoints;

    /// <summary>A fresh key prefix for one test.</summary>
    public static string NewPrefix() => $"/mesh-test-{Guid.NewGuid():N}";

    public async Task InitializeAsync() => _server = await EtcdServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
