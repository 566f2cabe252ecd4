using Mesh.Extensibility;
using Mesh.Runtime;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Mesh.AspNetCore;

/// <summary>
/// First middleware of a meshed app: restores the mesh context (lane, caller, baggage) from the request headers so
/// that outbound calls made while handling it carry them on, makes this app's runtime the ambient one, then runs
/// the inbound extensions in order. At an ingress the lane and caller headers come from outside and are removed
/// first; when the mesh signs callers, a caller without a valid signature is not trusted. An extension that throws
/// before handing the request on is reported and skipped.
/// </summary>
internal sealed class MeshInboundMiddleware
{
    private readonly RequestDelegate _next;
    private readonly MeshRuntime _runtime;
    private readonly IInboundExtension[] _extensions;
    private readonly bool _ingress;

    public MeshInboundMiddleware(RequestDelegate next, MeshRuntime runtime, IEnumerable<IMeshExtension> extensions, IOptions<MeshOptions> options)
    {
        _next = next;
        _runtime = runtime;
        _extensions = [.. extensions.OfType<IInboundExtension>().OrderBy(e => e.Order)];
        _ingress = options.Value.Ingress == true;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var snapshot = _runtime.Snapshot;
        var headers = context.Request.Headers;
        if (_ingress)
        {
            headers.Remove(snapshot.LaneHeader);
            headers.Remove(snapshot.CallerHeader);
            headers.Remove(snapshot.CallerSignatureHeader);
        }

        var lane = headers[snapshot.LaneHeader].ToString();
        var caller = headers[snapshot.CallerHeader].ToString();
        var baggage = headers["baggage"].ToString();
        if (caller.Length > 0 && snapshot.CallerSignature is { } signature && !signature.Verify(caller, headers[snapshot.CallerSignatureHeader]))
        {
            context.Features.Set(new ForgedCallerFeature(caller));
            caller = "";
        }

        var meshContext = lane.Length == 0 && caller.Length == 0 && baggage.Length == 0
            ? null
            : new MeshContext(NullIfEmpty(lane), NullIfEmpty(caller), NullIfEmpty(baggage));
        using var contextScope = MeshContext.Use(meshContext);
        using var runtimeScope = MeshAgent.UseRuntime(_runtime);
        await Invoke(context, 0).ConfigureAwait(false);
    }

    private async Task Invoke(HttpContext context, int index)
    {
        if (index == _extensions.Length)
        {
            await _next(context).ConfigureAwait(false);
            return;
        }

        var extension = _extensions[index];
        var handedOn = false;
        try
        {
            await extension.InvokeAsync(context, c =>
            {
                handedOn = true;
                return Invoke(c, index + 1);
            }).ConfigureAwait(false);
        }
        catch (Exception ex) when (!handedOn)
        {
            // Failed before the rest of the pipeline ran: skip the extension. After it, the exception belongs to
            // the app (or the extension failed on the way back) and the request must not run twice.
            _runtime.ReportExtensionFailure(extension.Name, ex);
            await Invoke(context, index + 1).ConfigureAwait(false);
        }
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
