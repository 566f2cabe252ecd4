// The orders service: several instances (v1, v2, a gray-lane one) run this same program. It calls
// http://stock/... (HTTP) and http://pricing (gRPC) by their logical names; AddMesh routes both calls and carries the
// caller's lane on.
using Mesh.Examples;
using Mesh.Examples.Pricing;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Services.AddDemoMesh();
builder.Services.AddDemoTelemetry();
builder.Services.AddGrpcClient<Pricing.PricingClient>(o => o.Address = new Uri("http://pricing"));
var app = builder.Build();
var instance = app.Configuration["instance"] ?? "orders";
app.MapGet("/api/order", async (IHttpClientFactory clients, Pricing.PricingClient pricing, HttpContext context) =>
{
    if (app.Configuration["fail"] == "true")
    {
        return Results.StatusCode(503);
    }

    var stock = await clients.CreateClient("stock").GetStringAsync("http://stock/api/stock", context.RequestAborted);
    var quote = await pricing.QuoteAsync(new QuoteRequest { Item = "book" }, cancellationToken: context.RequestAborted);
    return Results.Text($"{instance} -> {stock}, {quote.Instance}{(quote.Lane.Length > 0 ? $" [lane {quote.Lane}]" : "")}");
});
PortFile.WriteWhenStarted(app, app.Configuration["port-file"]);
app.Run();
