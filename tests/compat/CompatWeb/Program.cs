// An ordinary ASP.NET Core app that knows nothing of any service mesh. Its endpoints make outbound calls in the ways
// real apps do (a static HttpClient, IHttpClientFactory named and typed clients, the standard resilience handler,
// a gRPC factory client) and answer one line per call. See ../README.md for the protocol.
using CompatWeb;
#if COMPAT_GRPC
using Grpc.Core;
#endif
#if COMPAT_OTEL
using OpenTelemetry.Trace;
#endif

var name = Environment.GetEnvironmentVariable("COMPAT_NAME") is { Length: > 0 } n ? n : "web";
var builder = Environment.GetEnvironmentVariable("COMPAT_BUILDER") == "slim"
    ? WebApplication.CreateSlimBuilder(args)
    : WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.UseUrls("http://127.0.0.1:0");

builder.Services.AddHttpClient("orders");
builder.Services.AddHttpClient<OrdersClient>(c => c.BaseAddress = new Uri("http://orders"));
#if COMPAT_RESILIENCE
builder.Services.AddHttpClient("orders-std").AddStandardResilienceHandler();
#endif
#if COMPAT_GRPC
builder.Services.AddGrpc();
builder.Services.AddGrpcClient<Greeter.GreeterClient>(o => o.Address = new Uri("http://greeter"));
#endif
#if COMPAT_OTEL
var counter = new ActivityCounter();
builder.Services.AddOpenTelemetry().WithTracing(t => t
    .SetSampler(new AlwaysOnSampler())
    .AddAspNetCoreInstrumentation()
    .AddHttpClientInstrumentation()
    .AddProcessor(counter));
#endif

var app = builder.Build();

app.MapGet("/ping", () => name);

app.MapGet("/raw", async (int? n, string? service) =>
{
    var lines = new List<string>();
    for (var i = 0; i < (n ?? 1); i++)
        lines.Add(await Calls.Get(() => Calls.Raw.GetAsync($"http://{service ?? "orders"}/")));
    return string.Join("\n", lines);
});

app.MapGet("/factory", async (IHttpClientFactory factory, int? n, string? service) =>
{
    var client = factory.CreateClient("orders");
    var lines = new List<string>();
    for (var i = 0; i < (n ?? 1); i++)
        lines.Add(await Calls.Get(() => client.GetAsync($"http://{service ?? "orders"}/")));
    return string.Join("\n", lines);
});

app.MapGet("/typed", async (OrdersClient orders, int? n) =>
{
    var lines = new List<string>();
    for (var i = 0; i < (n ?? 1); i++)
        lines.Add(await Calls.Get(() => orders.GetAsync("/")));
    return string.Join("\n", lines);
});

#if COMPAT_RESILIENCE
app.MapGet("/std", async (IHttpClientFactory factory, int? n) =>
{
    var client = factory.CreateClient("orders-std");
    var lines = new List<string>();
    for (var i = 0; i < (n ?? 1); i++)
        lines.Add(await Calls.Get(() => client.GetAsync("http://orders/")));
    return string.Join("\n", lines);
});
#endif

#if COMPAT_GRPC
app.MapGrpcService<GreeterService>();
app.MapGet("/grpc", async (Greeter.GreeterClient greeter, int? n) =>
{
    var lines = new List<string>();
    for (var i = 0; i < (n ?? 1); i++)
    {
        try
        {
            var reply = await greeter.SayHelloAsync(new HelloRequest { Name = name });
            lines.Add(reply.Message);
        }
        catch (RpcException e)
        {
            lines.Add("FAIL " + e.StatusCode);
        }
        catch (Exception e)
        {
            lines.Add("FAIL " + e.GetType().Name);
        }
    }
    return string.Join("\n", lines);
});
#endif

#if COMPAT_OTEL
app.MapGet("/otel", () => $"server={counter.Server} client={counter.Client}");
#endif

app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine("listening " + string.Join(",", app.Urls)));
app.Run();

static class Calls
{
    // One HttpClient for the whole process, made with new HttpClient() as many apps still do.
    public static readonly HttpClient Raw = new();

    // One line for one call: the body on success, else FAIL and the status code number or the exception type name.
    public static async Task<string> Get(Func<Task<HttpResponseMessage>> send)
    {
        try
        {
            using var response = await send();
            return response.IsSuccessStatusCode
                ? await response.Content.ReadAsStringAsync()
                : "FAIL " + (int)response.StatusCode;
        }
        catch (Exception e)
        {
            return "FAIL " + e.GetType().Name;
        }
    }
}
