using Mesh.Providers;
using Microsoft.Extensions.Time.Testing;
using Mesh.Routing;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Engine.Tests.Providers;

public sealed class JsonFileConfigSourceTests
{
    private static string Config(string endpointId, int port) => $$"""
        { "services": { "orders": { "endpoints": [ { "id": "{{endpointId}}", "address": "http://127.0.0.1:{{port}}" } ] } } }
        """;

    private static string PickedId(MeshRuntime runtime)
    {
        var request = new TestRequest();
        return runtime.Route("orders", ref request, null).Endpoint!.Id;
    }

    [Fact]
    public async Task Start_FileExists_AppliesIt()
    {
        using var file = new TempFile();
        file.Write(Config("first", 5001));
        using var runtime = new MeshRuntime();
        await using var source = new JsonFileConfigSource(file.Path);

        await source.StartAsync(runtime, CancellationToken.None);

        Assert.Equal("first", PickedId(runtime));
    }

    [Fact]
    public async Task FileEdited_ValidChange_RoutesNextRequestsWithoutRestart()
    {
        using var file = new TempFile();
        file.Write(Config("first", 5001));
        using var runtime = new MeshRuntime();
        await using var source = new JsonFileConfigSource(file.Path);
        await source.StartAsync(runtime, CancellationToken.None);

        file.Write(Config("second", 5002));

        await Eventually.UntilAsync(() => runtime.Snapshot.Version == 2, "the edited file to be applied");
        Assert.Equal("second", PickedId(runtime));
    }

    [Fact]
    public async Task ConfigMapStyleSwap_LinkedFolderReplaced_RoutesByTheNewFile()
    {
        // The layout Kubernetes gives a mounted ConfigMap: the file is a link through "..data", itself a link to a
        // timestamped folder, and an update swaps "..data" to a new folder in one rename.
        var root = Directory.CreateTempSubdirectory("mesh-configmap-").FullName;
        try
        {
            void Version(string folder, string json)
            {
                Directory.CreateDirectory(Path.Combine(root, folder));
                File.WriteAllText(Path.Combine(root, folder, "mesh.json"), json);
            }

            Version("..2026_01", Config("old01", 5001));
            File.CreateSymbolicLink(Path.Combine(root, "..data"), "..2026_01");
            File.CreateSymbolicLink(Path.Combine(root, "mesh.json"), Path.Combine("..data", "mesh.json"));
            using var runtime = new MeshRuntime();
            await using var source = new JsonFileConfigSource(Path.Combine(root, "mesh.json"));
            await source.StartAsync(runtime, CancellationToken.None);
            Assert.Equal("old01", PickedId(runtime));

            // Same size and time as the file it replaces: only where it lives tells the two apart.
            Version("..2026_02", Config("new02", 5002));
            File.SetLastWriteTimeUtc(Path.Combine(root, "..2026_02", "mesh.json"), File.GetLastWriteTimeUtc(Path.Combine(root, "..2026_01", "mesh.json")));
            File.CreateSymbolicLink(Path.Combine(root, "..data_tmp"), "..2026_02");
            // rename(2) of the link over the old one, as the kubelet does (File.Move follows the link to a folder).
            using (var swap = System.Diagnostics.Process.Start("mv", ["-T", Path.Combine(root, "..data_tmp"), Path.Combine(root, "..data")]))
            {
                await swap.WaitForExitAsync();
                Assert.Equal(0, swap.ExitCode);
            }

            await Eventually.UntilAsync(() => runtime.Snapshot.Version == 2, "the swapped ConfigMap to be applied");
            Assert.Equal("new02", PickedId(runtime));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task FileEdited_InvalidChange_RejectedWithFileAndField_LastGoodKept()
    {
        using var file = new TempFile();
        file.Write(Config("first", 5001));
        using var runtime = new MeshRuntime();
        await using var source = new JsonFileConfigSource(file.Path);
        await source.StartAsync(runtime, CancellationToken.None);

        file.Write(Config("first", 5001).Replace("\"id\": \"first\"", "\"id\": \"first\", \"weight\": -1", StringComparison.Ordinal));
        await Eventually.UntilAsync(() => runtime.RecentRejections.Count > 0, "the invalid edit to be rejected");

        var rejection = runtime.RecentRejections.Single();
        Assert.Equal(file.Path, rejection.Source);
        Assert.Equal("$.services.orders.endpoints[0].weight", rejection.Error.Path);
        Assert.Equal(1, runtime.Snapshot.Version);
        Assert.Equal("first", PickedId(runtime));

        // A later good edit is taken again: a rejection does not stop the watch.
        file.Write(Config("third", 5003));
        await Eventually.UntilAsync(() => runtime.Snapshot.Version == 2, "the next good edit to be applied");
        Assert.Equal("third", PickedId(runtime));
    }

    [Fact]
    public async Task Start_FileMissing_ReportsAndPassesThrough()
    {
        using var file = new TempFile();
        using var runtime = new MeshRuntime();
        await using var source = new JsonFileConfigSource(file.Path);

        await source.StartAsync(runtime, CancellationToken.None);

        Assert.Contains("cannot read the file", runtime.RecentRejections.Single().Error.Message, StringComparison.Ordinal);
        var request = new TestRequest();
        Assert.Equal(RouteStatus.NotMeshed, runtime.Route("orders", ref request, null).Status);

        file.Write(Config("late", 5004));
        await Eventually.UntilAsync(() => runtime.Snapshot.Version == 1, "the file created later to be applied");
    }

    [Fact]
    public async Task Reload_UnexpectedException_ReportedAndCounted_NextEditApplied()
    {
        using var file = new TempFile();
        file.Write(Config("first", 5001));
        var time = new FakeTimeProvider();
        var logs = new TestLoggerFactory();
        using var runtime = new MeshRuntime(loggerFactory: logs, time: time);
        using var failures = new MetricRecorder(runtime.Telemetry.Meter, "mesh.provider.failures");
        await using var source = new JsonFileConfigSource(file.Path);
        await source.StartAsync(runtime, CancellationToken.None);

        // The reload runs on a timer thread, where an escaping exception would end the whole process.
        logs.ThrowOnce(line => line.Contains("is in force", StringComparison.Ordinal));
        file.Write(Config("second-edit", 5002));
        time.Advance(TimeSpan.FromSeconds(2));

        var failure = Assert.Single(failures.Measurements);
        Assert.Equal(file.Path, failure.Tag("mesh.source"));
        Assert.Equal(nameof(InvalidOperationException), failure.Tag("mesh.reason"));
        Assert.Contains(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) && l.Contains(file.Path, StringComparison.Ordinal));

        file.Write(Config("third", 5003));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("third", PickedId(runtime));
    }
}
