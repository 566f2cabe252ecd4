using System.Text.Json;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Mesh.Cli.Tests;

public sealed class MeshCtlAdminTests
{
    [Fact]
    public async Task List_AdminEndpoint_ShowsLiveEjectionState()
    {
        using var config = new TempFile();
        config.Write("""
            { "services": { "orders": { "endpoints": [
                { "id": "o1", "address": "http://127.0.0.1:5001" }, { "id": "o2", "address": "http://127.0.0.1:5002" } ] } } }
            """);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddMesh(o => o.UseFile(config.Path)).AddMeshAdmin(o => o.Token = "t0ken");
        await using var app = builder.Build();
        await app.StartAsync();
        var runtime = app.Services.GetRequiredService<MeshRuntime>();
        await Eventually.UntilAsync(() => runtime.Snapshot.Version > 0, "mesh file applied");
        runtime.Snapshot.Services["orders"].EndpointsById["o2"].State.Eject(runtime.Time.GetTimestamp() + runtime.Time.TimestampFrequency * 60);
        var admin = app.ListeningAddress() + "/mesh/admin";
        var meshctl = new MeshCtlRunner("http://127.0.0.1:1", "/unused");

        var json = await meshctl.RunAsync("list", "--admin", admin, "--admin-token", "t0ken", "--json");
        var table = await meshctl.RunAsync("list", "--admin", admin, "--admin-token", "t0ken");

        Assert.Equal(0, json.Exit);
        var rows = JsonDocument.Parse(json.Out).RootElement;
        Assert.False(rows[0].GetProperty("ejected").GetBoolean());
        Assert.True(rows[1].GetProperty("ejected").GetBoolean());
        Assert.Contains("ejected until", table.Out, StringComparison.Ordinal);
        await app.StopAsync();
    }
}
