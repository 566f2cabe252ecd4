using System.Diagnostics.Metrics;
using Mesh.AspNetCore;
using Mesh.Runtime;
using Microsoft.AspNetCore.Http;

namespace Mesh.Examples.CustomExtension;

/// <summary>
/// A custom extension on the public contract alone. Inbound, it names the service that answered in an
/// <c>x-served-by</c> response header; as an outcome observer it counts the app's outbound calls by service and
/// outcome on its own meter. Use it with <c>AddMesh().AddExtension&lt;ServedByExtension&gt;()</c>, or, in an app that
/// knows nothing of Mesh, by putting this assembly in a folder named by <c>MESH_EXTENSIONS_PATH</c>.
/// </summary>
public sealed class ServedByExtension : IInboundExtension, IOutcomeObserver, IDisposable
{
    /// <summary>The response header.</summary>
    public const string Header = "x-served-by";

    private readonly MeshRuntime _runtime;
    private readonly Meter _meter = new("Mesh.Examples.CustomExtension");
    private readonly Counter<long> _calls;

    /// <summary>Creates the extension for the app's runtime.</summary>
    public ServedByExtension(MeshRuntime runtime)
    {
        _runtime = runtime;
        _calls = _meter.CreateCounter<long>("example.outbound.calls", "{call}", "Outbound calls of this app by service and outcome.");
    }

    /// <inheritdoc />
    public string Name => "servedBy";

    /// <inheritdoc />
    public int Order => 1000;

    /// <inheritdoc />
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[Header] = _runtime.Snapshot.ServiceName ?? "unnamed";
            return Task.CompletedTask;
        });
        return next(context);
    }

    /// <inheritdoc />
    public void OnOutcome(in CallOutcome outcome)
        => _calls.Add(1, new KeyValuePair<string, object?>("service", outcome.Service.Name), new KeyValuePair<string, object?>("outcome", MeshRuntime.OutcomeName(outcome.Kind)));

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();
}
