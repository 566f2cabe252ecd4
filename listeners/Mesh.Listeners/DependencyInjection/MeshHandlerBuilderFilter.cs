using Mesh.Extensibility;
using Mesh.Http;
using Mesh.Runtime;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;

namespace Mesh;

/// <summary>
/// Puts the mesh's handler at the outside of every <c>IHttpClientFactory</c> client, so the client's requests are
/// routed by this app's runtime (not another one in the same process) and extensions can re-send them. Each outbound
/// extension's handler is wrapped in an <see cref="IsolatingHandler"/>.
/// </summary>
internal sealed partial class MeshHandlerBuilderFilter(MeshRuntime runtime, IEnumerable<IMeshExtension> extensions) : IHttpMessageHandlerBuilderFilter
{
    // The app's own re-sending handlers: Microsoft.Extensions.Http.Polly's, and Microsoft.Extensions.Http.Resilience's
    // (standard resilience and hedging). Known by name: the mesh references neither package in the app's version.
    private static readonly string[] AppResendingHandlers = ["Microsoft.Extensions.Http.PolicyHttpMessageHandler", "Microsoft.Extensions.Http.Resilience.ResilienceHandler"];

    // Subclasses too (a team's own handler built on one of these).
    private static bool IsAppResending(DelegatingHandler handler)
    {
        for (var type = handler.GetType(); type is not null; type = type.BaseType)
        {
            if (AppResendingHandlers.Contains(type.FullName, StringComparer.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private readonly IOutboundExtension[] _outbound = [.. extensions.OfType<IOutboundExtension>().OrderBy(e => e.Order)];
    private readonly ILogger _logger = runtime.LoggerFactory.CreateLogger("Mesh.Http");

    public Action<HttpMessageHandlerBuilder> Configure(Action<HttpMessageHandlerBuilder> next) => builder =>
    {
        next(builder);
        MeshGrpc.DisableChannelBalancing(builder.PrimaryHandler);
        var appResending = builder.AdditionalHandlers.FirstOrDefault(IsAppResending);
        if (appResending is not null)
        {
            Log.AppResends(_logger, builder.Name ?? "", appResending.GetType().Name);
        }

        var client = new OutboundClient(builder.Name ?? "", appResending is not null);
        var handlers = new List<DelegatingHandler> { new MeshRuntimeHandler(runtime) };
        foreach (var extension in _outbound)
        {
            try
            {
                handlers.Add(new IsolatingHandler(runtime, extension.Name, extension.CreateHandler(runtime, client)));
            }
            catch (Exception ex)
            {
                runtime.ReportExtensionFailure(extension.Name, ex);
            }
        }

        for (var i = handlers.Count - 1; i >= 0; i--)
        {
            builder.AdditionalHandlers.Insert(0, handlers[i]);
        }

        // Innermost: whatever handler of the app re-sends the message (known by name or not), each re-send is
        // routed anew.
        builder.AdditionalHandlers.Add(new MeshResendHandler());
    };
}

internal sealed partial class MeshHandlerBuilderFilter
{
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Client '{Client}' has the app's own {Handler}: the app's policy re-sends its requests; the mesh's retry stays off it (its timeouts and breakers stay on), and every attempt is still routed")]
        public static partial void AppResends(ILogger logger, string client, string handler);
    }
}

/// <summary>
/// The innermost handler of every factory client. A handler of the app's that re-sends the same message (Polly's,
/// the standard resilience handler, one of its own) would send it to the endpoint the mesh picked for the attempt
/// before, since the mesh left the message addressed there: each such re-send is turned back to the address the app
/// asked for, with the endpoint tried marked, and the listener routes it anew. The mesh's own retry starts every
/// attempt from the logical address itself, so this is a no-op for it.
/// </summary>
internal sealed class MeshResendHandler : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var options = request.Options;
        if (options.TryGetValue(MeshRequestOptions.Call, out var previous) && ReferenceEquals(previous.RoutedUri, request.RequestUri))
        {
            request.RequestUri = previous.OriginalUri;
            if (!options.TryGetValue(MeshRequestOptions.Attempted, out var attempted))
            {
                attempted = [];
                options.Set(MeshRequestOptions.Attempted, attempted);
            }

            attempted.Add(previous.Endpoint);
        }

        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Tags each request with the runtime of the client that sends it.</summary>
internal sealed class MeshRuntimeHandler(MeshRuntime runtime) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        request.Options.Set(MeshRequestOptions.Runtime, runtime);
        try
        {
            // The listener's first, cheap test asks the attached and the ambient runtimes whether they know the host.
            // An attached runtime is asked anyway; otherwise (a host shutting down, a runtime used without its hosted
            // service) the client's runtime is made ambient for the send so that its calls are still routed. Only
            // then: an async-local value costs every await of the send. A detach in the middle of a send leaves
            // that send's later retries unrouted; shutting down is the only time it happens.
            if (MeshAgent.IsAttached(runtime))
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }

            using (MeshAgent.UseRuntime(runtime))
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // HttpClient's response and exception events end every routed attempt before its exception gets here,
            // except a canceled one (that response event carries no request) and one another diagnostic subscriber
            // broke; either would otherwise stay counted in flight on its endpoint until its request is collected.
            MeshCall.EndOpen(request, ex);
            throw;
        }
    }
}
