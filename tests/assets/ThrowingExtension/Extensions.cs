using Mesh.AspNetCore;
using Mesh.Runtime;
using Microsoft.AspNetCore.Http;

namespace ThrowingExtension;

// Extensions that fail at every point where an extension can fail; the app under test must not notice.

public sealed class ThrowsWhenConstructed : IInboundExtension
{
    public ThrowsWhenConstructed() => throw new InvalidOperationException("constructor fails on purpose");

    public string Name => "throwsWhenConstructed";

    public int Order => 0;

    public Task InvokeAsync(HttpContext context, RequestDelegate next) => next(context);
}

public sealed class ThrowsOnRequest : IInboundExtension
{
    public string Name => "throwsOnRequest";

    public int Order => 1;

    public Task InvokeAsync(HttpContext context, RequestDelegate next) => throw new InvalidOperationException("request handling fails on purpose");
}

public sealed class FaultsOnRequest : IInboundExtension
{
    public string Name => "faultsOnRequest";

    public int Order => 2;

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        await Task.Yield();
        throw new InvalidOperationException("asynchronous request handling fails on purpose");
    }
}

public sealed class ThrowsOnOutcome : IOutcomeObserver, Mesh.Extensibility.IMeshExtension
{
    public string Name => "throwsOnOutcome";

    public int Order => 3;

    public void OnOutcome(in CallOutcome outcome) => throw new InvalidOperationException("outcome observer fails on purpose");
}
