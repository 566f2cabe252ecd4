using System.Collections.Concurrent;
using System.Diagnostics;
using Mesh.Runtime;
using Mesh.Testing;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Mesh.Listeners.Tests;

/// <summary>The span and metrics of routed calls, seen through the same listener APIs an OpenTelemetry SDK uses.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task RoutedCall_SpanWithServiceEndpointRouteLane_AndRequestMetrics()
    {
        await using var ok = await TestBackend.StartAsync("ok");
        await using var failing = await TestBackend.StartAsync("failing");
        failing.AnswerWith(503);
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson($$"""
            { "services": { "orders": {
                "endpoints": [ { "id": "ok", "address": "{{ok.Address}}" }, { "id": "bad", "address": "{{failing.Address}}", "tags": { "lane": "gray" } } ],
                "policy": { "routes": [ { "name": "all", "destinations": [ { "subset": {} } ] } ] } } } }
            """, "test"));

        // Listeners see only this runtime's instruments and spans: other tests run meshes in parallel.
        var spans = new ConcurrentQueue<Activity>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = source => ReferenceEquals(source, runtime.Telemetry.ActivitySource),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(activityListener);
        using var metrics = new MetricRecorder(runtime.Telemetry.Meter);

        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);
        using var client = new HttpClient();
        Assert.Equal("ok", await client.GetStringAsync("http://orders/"));
        using var laned = new HttpRequestMessage(HttpMethod.Get, "http://orders/");
        laned.Headers.Add("x-mesh-lane", "gray");
        using var failed = await client.SendAsync(laned);

        Assert.Equal(2, spans.Count);
        var success = spans.Single(s => (string?)s.GetTagItem("mesh.endpoint") == "ok");
        Assert.Equal("mesh.route", success.OperationName);
        Assert.Equal("orders", success.GetTagItem("mesh.service"));
        Assert.Equal("all", success.GetTagItem("mesh.route"));
        Assert.Null(success.GetTagItem("mesh.lane"));
        Assert.Equal("success", success.GetTagItem("mesh.outcome"));
        Assert.Equal(ActivityStatusCode.Ok, success.Status);
        var failure = spans.Single(s => (string?)s.GetTagItem("mesh.endpoint") == "bad");
        Assert.Equal("gray", failure.GetTagItem("mesh.lane"));
        Assert.Equal(503, failure.GetTagItem("http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Error, failure.Status);

        var requests = metrics.Of("mesh.requests");
        Assert.Equal(2, requests.Length);
        Assert.Contains(requests, m => m.Tag("mesh.endpoint") == "ok" && m.Tag("mesh.outcome") == "success" && m.Tag("mesh.route") == "all");
        Assert.Contains(requests, m => m.Tag("mesh.endpoint") == "bad" && m.Tag("mesh.outcome") == "server_error");
        var durations = metrics.Of("mesh.request.duration");
        Assert.Equal(2, durations.Length);
        Assert.All(durations, d => Assert.InRange(d.Value, 0, 10));
    }

    [Fact]
    public async Task NoListener_NoSpanCreated()
    {
        await using var ok = await TestBackend.StartAsync("ok");
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson($$"""{ "services": { "orders": { "endpoints": [ { "id": "ok", "address": "{{ok.Address}}" } ] } } }""", "test"));
        using var attachment = MeshAgent.Attach(runtime);
        using var scope = MeshAgent.UseRuntime(runtime);
        using var client = new HttpClient();

        Assert.False(runtime.Telemetry.ActivitySource.HasListeners());
        Assert.Equal("ok", await client.GetStringAsync("http://orders/"));
        Assert.Null(Activity.Current);
    }

    [Fact]
    public async Task OpenTelemetrySdk_ExportsTheMeshSpanAndMetrics()
    {
        await using var ok = await TestBackend.StartAsync("otel");
        using var runtime = new MeshRuntime();
        Assert.Empty(runtime.ApplyJson($$"""{ "services": { "otel-orders": { "endpoints": [ { "id": "otel-1", "address": "{{ok.Address}}" } ] } } }""", "test"));
        var spans = new List<Activity>();
        var metrics = new List<OpenTelemetry.Metrics.Metric>();
        // Always on: a test running in parallel may make HttpClient create an unrecorded activity of its own, which the
        // default parent-based sampler would pass on to the mesh span.
        using (var tracing = OpenTelemetry.Sdk.CreateTracerProviderBuilder().SetSampler(new OpenTelemetry.Trace.AlwaysOnSampler()).AddSource(MeshTelemetry.Name).AddInMemoryExporter(spans).Build())
        using (var meters = OpenTelemetry.Sdk.CreateMeterProviderBuilder().AddMeter(MeshTelemetry.Name).AddInMemoryExporter(metrics).Build())
        {
            using var attachment = MeshAgent.Attach(runtime);
            using var scope = MeshAgent.UseRuntime(runtime);
            using var client = new HttpClient();
            Assert.Equal("otel", await client.GetStringAsync("http://otel-orders/"));
        }

        // Disposing the providers exported what they had, once.

        // Other tests' meshes report to sources and meters of the same name; this test's service is its own.
        var span = Assert.Single(spans, s => (string?)s.GetTagItem("mesh.service") == "otel-orders");
        Assert.Equal("otel-1", span.GetTagItem("mesh.endpoint"));
        var requests = metrics.Where(m => m.Name == "mesh.requests").SelectMany(Points)
            .Where(p => Tags(p).Contains(new KeyValuePair<string, object?>("mesh.service", "otel-orders"))).ToList();
        Assert.Equal(1, requests.Sum(p => p.GetSumLong()));
    }

    private static IEnumerable<OpenTelemetry.Metrics.MetricPoint> Points(OpenTelemetry.Metrics.Metric metric)
    {
        foreach (var point in metric.GetMetricPoints())
        {
            yield return point;
        }
    }

    private static List<KeyValuePair<string, object?>> Tags(OpenTelemetry.Metrics.MetricPoint point)
    {
        var tags = new List<KeyValuePair<string, object?>>();
        foreach (var tag in point.Tags)
        {
            tags.Add(tag);
        }

        return tags;
    }
}
