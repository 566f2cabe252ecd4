using Mesh.Providers;
using Mesh.Runtime;
using Mesh.Testing;

namespace Mesh.Listeners.Tests;

/// <summary>The per-source start the hosted service and the startup hook share: one broken source costs itself alone.</summary>
public sealed class ConfigSourceStarterTests
{
    [Fact]
    public async Task SourcesThrowingWhenBuiltOrStarted_ReportedByNameAndReason_Disposed_FileSourceStillRoutes()
    {
        await using var backend = await TestBackend.StartAsync("from-file");
        using var file = new TempFile();
        file.Write($$"""{ "services": { "orders": { "endpoints": [ { "id": "f1", "address": "{{backend.Address}}" } ] } } }""");
        var logs = new TestLoggerFactory();
        using var runtime = new MeshRuntime(loggerFactory: logs);
        using var failures = new MetricRecorder(runtime.Telemetry.Meter, "mesh.provider.failures");

        // Not async: a source whose StartAsync throws before returning a task, which a caller catching only a faulted
        // task's AggregateException would let through.
        var throwsOnStart = new FakeSource("etcd https://127.0.0.1:1 /mesh", () => throw new FileNotFoundException("CA file not found"));

        // In the hook's order: the broken sources first must not keep the file from being started after them.
        var notBuilt = await ConfigSourceStarter.StartAsync(runtime, "etcd malformed", () => throw new FormatException("malformed MESH_ETCD_PREFIX"), CancellationToken.None);
        var notStarted = await ConfigSourceStarter.StartAsync(runtime, "unused", () => throwsOnStart, CancellationToken.None);
        await using var started = await ConfigSourceStarter.StartAsync(runtime, file.Path, () => new JsonFileConfigSource(file.Path), CancellationToken.None);

        Assert.Null(notBuilt);
        Assert.Null(notStarted);
        Assert.IsType<JsonFileConfigSource>(started);
        Assert.True(throwsOnStart.Disposed);
        Assert.Equal(
            [("etcd malformed", nameof(FormatException)), ("etcd https://127.0.0.1:1 /mesh", nameof(FileNotFoundException))],
            failures.Measurements.Select(m => (m.Tag("mesh.source"), m.Tag("mesh.reason"))));
        Assert.Contains(logs.Lines, l => l.Contains("etcd malformed failed to start", StringComparison.Ordinal));
        Assert.Contains(logs.Lines, l => l.Contains("etcd https://127.0.0.1:1 /mesh failed to start", StringComparison.Ordinal));

        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);
        using var client = new HttpClient();
        Assert.Equal("from-file", await client.GetStringAsync("http://orders/"));
    }

    [Fact]
    public async Task SourceFailingAfterTheCallerStoppedWaiting_ReportedWhenItFails()
    {
        using var runtime = new MeshRuntime();
        using var failures = new MetricRecorder(runtime.Telemetry.Meter, "mesh.provider.failures");
        var firstLoad = new TaskCompletionSource();
        var source = new FakeSource("slow etcd", () => firstLoad.Task);

        // The startup hook waits a bounded time and goes on; the start keeps running in the background.
        var start = ConfigSourceStarter.StartAsync(runtime, "unused", () => source, CancellationToken.None);
        Assert.False(start.IsCompleted);
        Assert.Empty(failures.Measurements);

        firstLoad.SetException(new IOException("connection reset"));

        Assert.Null(await start);
        var failure = Assert.Single(failures.Measurements);
        Assert.Equal(("slow etcd", nameof(IOException)), (failure.Tag("mesh.source"), failure.Tag("mesh.reason")));
        Assert.True(source.Disposed);
    }

    private sealed class FakeSource(string name, Func<Task> start) : IMeshConfigSource
    {
        public string Name => name;

        public bool Disposed { get; private set; }

        public Task StartAsync(MeshRuntime runtime, CancellationToken cancellationToken) => start();

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
