using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Mesh.Extensions.Tests;

/// <summary>A real generic host with AddMesh() over a mesh.json in a temp folder, and its factory client.</summary>
internal sealed class MeshHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly TempFile _file;

    private MeshHost(IHost host, TempFile file)
    {
        _host = host;
        _file = file;
    }

    public IServiceProvider Services => _host.Services;

    public MeshRuntime Runtime => _host.Services.GetRequiredService<MeshRuntime>();

    public HttpClient Client => _host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("test");

    public static async Task<MeshHost> StartAsync(string json, Action<IMeshBuilder>? configure = null, Action<IServiceCollection>? services = null)
    {
        var file = new TempFile();
        file.Write(json);
        var builder = Host.CreateApplicationBuilder();
        services?.Invoke(builder.Services);
        var mesh = builder.Services.AddMesh(o => o.UseFile(file.Path));
        configure?.Invoke(mesh);
        var host = builder.Build();
        await host.StartAsync();
        return new MeshHost(host, file);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        _file.Dispose();
    }
}
