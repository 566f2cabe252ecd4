using Mesh.Extensibility;
using Mesh.Runtime;

namespace Mesh;

/// <summary>
/// Runs an outbound extension's handler so that the extension cannot break the call: when it throws before handing
/// the request on, the failure is reported and the request is sent on without it. Once it has handed the request on,
/// every exception propagates unchanged: one from further in (a real network failure) belongs to the caller, and
/// one the extension throws on the way back cannot be undone by sending the request a second time. A deliberate
/// rejection (<see cref="IMeshRejection"/>, e.g. an open breaker) and a cancellation the caller asked for propagate
/// too.
/// </summary>
internal sealed class IsolatingHandler : DelegatingHandler
{
    // Per extension, so that nested isolated extensions each know about their own hand-on. The values are two
    // shared objects: marking a request costs an entry in its options, which the mesh has already created.
    private static readonly object Sent = new();
    private static readonly object NotSent = new();

    private readonly MeshRuntime _runtime;
    private readonly string _extension;
    private readonly HttpRequestOptionsKey<object> _handedOn;
    private readonly HttpMessageInvoker _invoker;

    public IsolatingHandler(MeshRuntime runtime, string extension, DelegatingHandler handler)
    {
        _runtime = runtime;
        _extension = extension;
        _handedOn = new($"Mesh.HandedOn.{extension}");
        handler.InnerHandler = new HandOn(this);
        _invoker = new HttpMessageInvoker(handler);
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Reset on every attempt: a retry sends the same request through again.
        request.Options.Set(_handedOn, NotSent);
        try
        {
            return await _invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!HandedOn(request) && ex is not IMeshRejection && !(ex is OperationCanceledException && cancellationToken.IsCancellationRequested))
        {
            _runtime.ReportExtensionFailure(_extension, ex);
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _invoker.Dispose();
        }

        base.Dispose(disposing);
    }

    private bool HandedOn(HttpRequestMessage request)
        => request.Options.TryGetValue(_handedOn, out var state) && ReferenceEquals(state, Sent);

    private Task<HttpResponseMessage> SendOnAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Options.Set(_handedOn, Sent);
        return base.SendAsync(request, cancellationToken);
    }

    // The extension handler's inner handler: the rest of the client pipeline, reached through the isolating handler.
    private sealed class HandOn(IsolatingHandler owner) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            => owner.SendOnAsync(request, cancellationToken);
    }
}
