using Mesh.Http;
using Polly.Timeout;

namespace Mesh.Extensions.Resilience;

/// <summary>How attempt outcomes are classified, shared by retry, breaker and tests.</summary>
internal static class Failures
{
    /// <summary>No connection was made: the request never reached the endpoint, so re-sending is always safe.</summary>
    public static bool IsConnectFailure(Exception? exception)
        => exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError }
            and not MeshRoutingException;

    /// <summary>
    /// The endpoint's connection broke after the request was sent, before a whole response came (reset, closed,
    /// response ended): the endpoint may have acted on the request, so only an idempotent one may be re-sent. Only
    /// the transport's own failures count: SocketsHttpHandler reports a broken connection as a plain
    /// <see cref="IOException"/> over a <see cref="System.Net.Sockets.SocketException"/>; a request body that failed
    /// while it was read (an upload the app forwards from a client that went away: a subclass of IOException, or no
    /// socket below it) is not the endpoint's failure and would not survive a re-send.
    /// </summary>
    public static bool IsReset(Exception? exception)
        => exception is HttpRequestException request and not MeshRoutingException and not Extensibility.IMeshRejection
            && (request.HttpRequestError == HttpRequestError.ResponseEnded
                || (request.HttpRequestError == HttpRequestError.Unknown && request.InnerException is IOException { InnerException: System.Net.Sockets.SocketException } io
                    && io.GetType() == typeof(IOException)));

    /// <summary>The attempt timed out (the per-try timeout fired).</summary>
    public static bool IsTimeout(Exception? exception) => exception is TimeoutRejectedException or TimeoutException;

    /// <summary>The response carries gRPC status UNAVAILABLE (14), in headers (trailers-only) or trailers.</summary>
    public static bool IsGrpcUnavailable(HttpResponseMessage? response)
        => response is not null
            && ((response.Headers.NonValidated.TryGetValues("grpc-status", out var status) && status.ToString() == "14")
                || (response.TrailingHeaders.NonValidated.TryGetValues("grpc-status", out var trailer) && trailer.ToString() == "14"));

    /// <summary>Whether an outcome counts against the service's breaker.</summary>
    public static bool IsBreakerFailure(HttpResponseMessage? response, Exception? exception)
        => exception is not null and not OperationCanceledException and not MeshRoutingException
            || (response is not null && ((int)response.StatusCode >= 500 || IsGrpcUnavailable(response)));

    /// <summary>Methods that can be sent twice without changing the outcome.</summary>
    public static bool IsIdempotent(HttpMethod method)
        => method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options || method == HttpMethod.Trace
            || method == HttpMethod.Put || method == HttpMethod.Delete;
}
