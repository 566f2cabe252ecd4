// The orders service: several instances (v1, v2, a gray-lane one) run this same program. It calls
// http://stock/... by its logical name; AddMesh routes the call and carries the caller's lane on.
using Mesh.Examples;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Services.AddDemoMesh();
var app = builder.Build();
var instance = app.Configuration["instance"] ?? "orders";
app.MapGet("/api/order", async (IHttpClientFactory clients, HttpContext context) =>
{
    if (app.Configuration["fail"] == "true")
    {
        return Results.StatusCode(503);
    }

    var stock = await clients.CreateClient("stock").GetStringAsync("http://stock/api/stock", context.RequestAborted);
    return Results.Text($"{instance} -> {stock}");
});
PortFile.WriteWhenStarted(app, app.Configuration["port-file"]);
app.Run();
