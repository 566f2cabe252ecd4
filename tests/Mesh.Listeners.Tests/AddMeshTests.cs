using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Mesh.Listeners.Tests;

/// <summary><c>AddMesh()</c> in a real host: IHttpClientFactory clients, the embedded file, live edits.</summary>
public sealed class AddMeshTests
{
    private static string Config(TestBackend backend, string id) => $$"""
        { "mesh": { "serviceName": "frontend" },
          "services": { "orders": { "endpoints": [ { "id": "{{id}}", "address": "{{backend.Address}}" } ] } } }
        """;

    [Fact]
    public async Task FactoryClient_FileConfig_RoutesAndFollowsEdits()
    {
        await using var first = await TestBackend.StartAsync("first");
        await using var second = await TestBackend.StartAsync("second");
        using var file = new TempFile();
        file.Write(Config(first, "a"));
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddMesh(options => options.UseFile(file.Path));
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient("orders");
        var runtime = host.Services.GetRequiredService<MeshRuntime>();

        Assert.Equal("first", await client.GetStringAsync("http://orders/"));

        file.Write(Config(second, "b"));
        await Eventually.UntilAsync(() => runtime.Snapshot.Version == 2, "the edit to be applied");
        Assert.Equal("second", await client.GetStringAsync("http://orders/"));
        await host.StopAsync();
    }

    [Fact]
    public async Task AddMesh_NoArguments_ReadsConfigurationSection()
    {
        await using var backend = await TestBackend.StartAsync("configured");
        using var file = new TempFile();
        file.Write(Config(backend, "c"));
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Mesh:ConfigPath"] = file.Path;
        builder.Configuration["Mesh:ServiceName"] = "billing";
        builder.Services.AddMesh();
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();

        using var response = await client.GetAsync("http://orders/");

        Assert.Equal("configured", await response.Content.ReadAsStringAsync());
        Assert.Equal("billing", response.Headers.GetValues("x-seen-x-mesh-caller").Single());
        await host.StopAsync();
    }

    [Fact]
    public async Task TwoHostsInOneProcess_EachFactoryClientUsesItsOwnRuntime()
    {
        await using var a = await TestBackend.StartAsync("a");
        await using var b = await TestBackend.StartAsync("b");
        using var fileA = new TempFile();
        using var fileB = new TempFile();
        fileA.Write(Config(a, "a"));
        fileB.Write(Config(b, "b"));
        using var hostA = Build(fileA.Path);
        using var hostB = Build(fileB.Path);
        await hostA.StartAsync();
        await hostB.StartAsync();

        Assert.Equal("a", await hostA.Services.GetRequiredService<IHttpClientFactory>().CreateClient().GetStringAsync("http://orders/"));
        Assert.Equal("b", await hostB.Services.GetRequiredService<IHttpClientFactory>().CreateClient().GetStringAsync("http://orders/"));
        await hostA.StopAsync();
        await hostB.StopAsync();

        static IHost Build(string path)
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Services.AddMesh(o => o.UseFile(path));
            return builder.Build();
        }
    }

    [Fact]
    public async Task MeshEnabledFalse_InFile_TurnsRoutingOffAndOnLive()
    {
        await using var backend = await TestBackend.StartAsync("routed");
        using var file = new TempFile();
        file.Write(Config(backend, "r"));
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddMesh(o => o.UseFile(file.Path));
        using var host = builder.Build();
        await host.StartAsync();
        var client = host.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
        var runtime = host.Services.GetRequiredService<MeshRuntime>();
        Assert.Equal("routed", await client.GetStringAsync("http://orders/"));

        file.Write(Config(backend, "r").Replace("\"serviceName\": \"frontend\"", "\"serviceName\": \"frontend\", \"enabled\": false", StringComparison.Ordinal));
        await Eventually.UntilAsync(() => !runtime.Snapshot.Enabled, "the switch-off to be applied");
        var off = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync("http://orders/"));
        Assert.IsNotType<Mesh.Http.MeshRoutingException>(off);

        file.Write(Config(backend, "r"));
        await Eventually.UntilAsync(() => runtime.Snapshot.Enabled, "the switch-on to be applied");
        Assert.Equal("routed", await client.GetStringAsync("http://orders/"));
        await host.StopAsync();
    }
}
