using Mesh.Extensibility;
using Mesh.Routing;
using Mesh.Runtime;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Mesh.AspNetCore;

/// <summary>
/// First middleware of a meshed app: restores the mesh context (lane, caller, baggage) from the request headers so
/// that outbound calls made while handling it carry them on, makes this app's runtime the ambient one, then runs
/// the inbound extensions in order. Values that are not printable ASCII or too long are dropped at this edge and
/// counted (<c>mesh.inbound.context.dropped</c>), never thrown later. At an ingress the lane, caller and baggage
/// headers come from outside and are removed first; when the mesh signs callers, a caller without a valid signature
/// is not trusted. An extension that throws before handing the request on is reported and skipped. While the
/// configuration says <c>mesh.enabled: false</c> all of this is skipped: the request reaches the app as sent, with no
/// mesh context (outbound calls are not routed then either, so a restored lane or caller would go nowhere).
/// </summary>
internal sealed class MeshInboundMiddleware
{
    private const string BaggageHeader = "baggage";
    private const int MaxTokenLength = 256;
    private const int MaxBaggageLength = 8192;

    private readonly RequestDelegate _next;
    private readonly MeshRuntime _runtime;
    private readonly IInboundExtension[] _extensions;
    private readonly RequestDelegate[] _handOn;
    private readonly bool _ingress;

    public MeshInboundMiddleware(RequestDelegate next, MeshRuntime runtime, IEnumerable<IMeshExtension> extensions, IOptions<MeshOptions> options)
    {
        _next = next;
        _runtime = runtime;
        _extensions = [.. extensions.OfType<IInboundExtension>().OrderBy(e => e.Order)];
        _ingress = options.Value.Ingress == true;

        // What each extension is given as its next step, made once rather than per request: it marks how far the
        // request was handed on (a shared marker object, no allocation) and runs the rest of the chain.
        _handOn = new RequestDelegate[_extensions.Length];
        for (var i = 0; i < _extensions.Length; i++)
        {
            var reached = new HandedOn(i + 1);
            _handOn[i] = context =>
            {
                context.Features.Set(reached);
                return Invoke(context, reached.Index);
            };
        }
    }

    public Task InvokeAsync(HttpContext context)
    {
        var snapshot = _runtime.Snapshot;
        if (!snapshot.Enabled)
        {
            return _next(context);
        }

        // The pipeline may run again for the same context (an exception handler or status-code pages before the
        // mesh re-executing it): how far the last run got says nothing about this one.
        if (_extensions.Length > 0)
        {
            context.Features.Set<HandedOn>(null);
        }

        var headers = context.Request.Headers;
        if (_ingress)
        {
            headers.Remove(snapshot.LaneHeader);
            headers.Remove(snapshot.CallerHeader);
            headers.Remove(snapshot.CallerSignatureHeader);
            headers.Remove(BaggageHeader);
        }

        var lane = Accept(headers, snapshot.LaneHeader, MaxTokenLength);
        var caller = Accept(headers, snapshot.CallerHeader, MaxTokenLength);
        var baggage = Accept(headers, BaggageHeader, MaxBaggageLength);
        if (caller.Length > 0 && snapshot.CallerSignature is { } signature && !signature.Verify(caller, headers[snapshot.CallerSignatureHeader]))
        {
            context.Features.Set(new ForgedCallerFeature(caller));
            caller = "";
        }

        var meshContext = lane.Length == 0 && caller.Length == 0 && baggage.Length == 0
            ? null
            : new MeshContext(NullIfEmpty(lane), NullIfEmpty(caller), NullIfEmpty(baggage));
        if (meshContext is null && MeshContext.Current is null && MeshAgent.Routes(_runtime))
        {
            // Nothing to restore, and this app's runtime routes the request's calls already: no async-local value is
            // set (every later await of the request would carry it) and no frame of the mesh's is added.
            return Invoke(context, 0);
        }

        return InvokeInContextAsync(context, meshContext);
    }

    private async Task InvokeInContextAsync(HttpContext context, MeshContext? meshContext)
    {
        using var contextScope = MeshContext.Use(meshContext);
        using var runtimeScope = MeshAgent.UseRuntime(_runtime);
        await Invoke(context, 0).ConfigureAwait(false);
    }

    // Completes synchronously when every extension does, without an async frame; an extension that fails before
    // handing the request on is reported and skipped, whether it throws or returns a faulted task.
    private Task Invoke(HttpContext context, int index)
    {
        if (index == _extensions.Length)
        {
            return _next(context);
        }

        Task task;
        try
        {
            task = _extensions[index].InvokeAsync(context, _handOn[index]);
        }
        catch (Exception ex) when (!(context.Features.Get<HandedOn>()?.Index > index))
        {
            _runtime.ReportExtensionFailure(_extensions[index].Name, ex);
            return Invoke(context, index + 1);
        }

        // An extension that returned no task failed like one that threw.
        task ??= Task.FromException(new InvalidOperationException($"inbound extension {_extensions[index].Name} returned no task"));
        return task.IsCompletedSuccessfully ? task : AwaitExtensionAsync(task, context, index);
    }

    private async Task AwaitExtensionAsync(Task task, HttpContext context, int index)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (!(context.Features.Get<HandedOn>()?.Index > index))
        {
            // Failed before the rest of the pipeline ran: skip the extension. After it, the exception belongs to
            // the app (or the extension failed on the way back) and the request must not run twice.
            _runtime.ReportExtensionFailure(_extensions[index].Name, ex);
            await Invoke(context, index + 1).ConfigureAwait(false);
        }
    }

    // The context's values go out again on every call the request makes, where HttpClient refuses what is not ASCII
    // and a CR or LF would split a header: checked once here, at the edge of the process, and dropped (and counted)
    // when they are not printable ASCII or longer than a lane, a service name or W3C baggage (8,192) can be.
    private string Accept(IHeaderDictionary headers, string name, int maxLength)
    {
        var value = headers[name].ToString();
        if (value.Length == 0 || (value.Length <= maxLength && !value.AsSpan().ContainsAnyExceptInRange(' ', '~')))
        {
            return value;
        }

        _runtime.Telemetry.InboundContextDropped.Add(1, new KeyValuePair<string, object?>("mesh.header", name));
        return "";
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    // The deepest point of the extension chain the request was handed on to; it only grows during a request.
    private sealed class HandedOn(int index)
    {
        public int Index { get; } = index;
    }
}
