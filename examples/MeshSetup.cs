using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Mesh.Examples;

/// <summary>How the meshed demo services join the mesh: the same code for both demo modes.</summary>
internal static class MeshSetup
{
    /// <summary>
    /// Rules from the file named by <c>MESH_CONFIG</c>, or, when <c>MESH_ETCD_ENDPOINTS</c> is set, from etcd, with
    /// the instance registering itself there (id, tags from <c>MESH_ENDPOINT_ID</c>, <c>MESH_ENDPOINT_TAGS</c>).
    /// </summary>
    public static IMeshBuilder AddDemoMesh(this IServiceCollection services)
    {
        var mesh = services.AddMesh().AddMeshInbound().AddResilience();
        return Environment.GetEnvironmentVariable("MESH_ETCD_ENDPOINTS") is { Length: > 0 }
            ? mesh.AddEtcdProvider().AddEtcdSelfRegistration()
            : mesh;
    }

    /// <summary>
    /// OpenTelemetry for the mesh's spans and metrics, when asked for: <c>DEMO_TELEMETRY=console</c> prints them,
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> sends them to a collector. Besides the <c>Mesh</c> source and meter, the
    /// HttpClient and ASP.NET Core activities are recorded, so a trace shows each hop and the mesh's routing in it.
    /// </summary>
    public static IServiceCollection AddDemoTelemetry(this IServiceCollection services)
    {
        var console = Environment.GetEnvironmentVariable("DEMO_TELEMETRY") == "console";
        var otlp = Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT") is { Length: > 0 };
        if (!console && !otlp)
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(Environment.GetEnvironmentVariable("MESH_SERVICE_NAME") ?? "demo"))
            .WithTracing(tracing =>
            {
                tracing.AddSource("Mesh", "System.Net.Http", "Microsoft.AspNetCore");
                _ = console ? tracing.AddConsoleExporter() : tracing.AddOtlpExporter();
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter("Mesh");
                _ = console ? metrics.AddConsoleExporter() : metrics.AddOtlpExporter();
            });
        return services;
    }
}
