using Mesh.Extensibility;
using Mesh.Runtime;
using Microsoft.AspNetCore.Http;

namespace Mesh.AspNetCore;

/// <summary>
/// First middleware of a meshed app: restores the mesh context (lane, caller, baggage) from the request headers so
/// that outbound calls made while handling it carry them on, makes this app's runtime the ambient one, then runs
/// the inbound extensions in order. An extension that throws is reported and skipped.
/// </summary>
internal sealed class MeshInboundMiddleware
{
    private readonly RequestDelegate _next;
    private readonly MeshRuntime _runtime;
    private readonly IInboundExtension[] _extensions;

    public MeshInboundMiddleware(RequestDelegate next, MeshRuntime runtime, IEnumerable<IMeshExtension> extensions)
    {
        _next = next;
        _runtime = runtime;
        _extensions = [.. extensions.OfType<IInboundExtension>().OrderBy(e => e.Order)];
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var snapshot = _runtime.Snapshot;
        var headers = context.Request.Headers;
        var lane = headers[snapshot.LaneHeader].ToString();
        var caller = headers[snapshot.CallerHeader].ToString();
        var baggage = headers["baggage"].ToString();
        var meshContext = lane.Length == 0 && caller.Length == 0 && baggage.Length == 0
            ? null
            : new MeshContext(NullIfEmpty(lane), NullIfEmpty(caller), NullIfEmpty(baggage));
        using var contextScope = MeshContext.Use(meshContext);
        using var runtimeScope = MeshAgent.UseRuntime(_runtime);
        await Invoke(context, 0).ConfigureAwait(false);
    }

    private Task Invoke(HttpContext context, int index)
    {
        if (index == _extensions.Length)
        {
            return _next(context);
        }

        var extension = _extensions[index];
        try
        {
            return extension.InvokeAsync(context, c => Invoke(c, index + 1));
        }
        catch (Exception ex)
        {
            _runtime.ReportExtensionFailure(extension.Name, ex);
            return Invoke(context, index + 1);
        }
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
