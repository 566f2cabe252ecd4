using Mesh.Configuration;

namespace Mesh.Extensions.Resilience.Retry;

/// <summary>The compiled <c>retry.on</c> list of a policy.</summary>
internal sealed class RetryConditions
{
    private static readonly string[] DefaultConditions = ["connectFailure", "gatewayError"];

    public RetryConditions(RetryDocument retry)
    {
        var on = retry.On is { Count: > 0 } list ? list : [.. DefaultConditions];
        ConnectFailure = on.Contains("connectFailure");
        ServerError = on.Contains("5xx");
        GatewayError = on.Contains("gatewayError");
        Timeout = on.Contains("timeout");
        GrpcUnavailable = on.Contains("grpcUnavailable");
        TooManyRequests = on.Contains("429");
        AllowNonIdempotent = retry.AllowNonIdempotent == true;
    }

    public bool ConnectFailure { get; }

    public bool ServerError { get; }

    public bool GatewayError { get; }

    public bool Timeout { get; }

    public bool GrpcUnavailable { get; }

    public bool TooManyRequests { get; }

    public bool AllowNonIdempotent { get; }

    /// <summary>Whether an attempt's outcome calls for another attempt, for a request of <paramref name="method"/>.</summary>
    public bool ShouldRetry(HttpMethod method, HttpResponseMessage? response, Exception? exception)
    {
        if (exception is not null)
        {
            // A failed connection never delivered the request: safe to re-send whatever the method.
            if (Failures.IsConnectFailure(exception))
            {
                return ConnectFailure;
            }

            // "5xx" also covers an endpoint that took the request and then broke the connection instead of answering
            // (as Envoy's 5xx does: "or does not respond at all"), for requests that may be sent twice.
            var resendable = AllowNonIdempotent || Failures.IsIdempotent(method);
            return resendable && ((ServerError && Failures.IsReset(exception)) || (Timeout && Failures.IsTimeout(exception)));
        }

        if (response is null || !(AllowNonIdempotent || Failures.IsIdempotent(method)))
        {
            return false;
        }

        var status = (int)response.StatusCode;
        return (ServerError && status >= 500)
            || (GatewayError && status is 502 or 503 or 504)
            || (TooManyRequests && status == 429)
            || (GrpcUnavailable && Failures.IsGrpcUnavailable(response));
    }
}
