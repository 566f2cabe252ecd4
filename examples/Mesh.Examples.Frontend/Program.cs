// The frontend: calls http://orders/... by its logical name through an IHttpClientFactory client. Which
// instance serves a call is decided by the mesh rules (a file or etcd, see MeshSetup.cs), not by this code.
using Mesh.Examples;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Services.AddDemoMesh();
builder.Services.AddDemoTelemetry();
var app = builder.Build();
app.MapGet("/", async (IHttpClientFactory clients, HttpRequest request, CancellationToken cancellationToken) =>
{
    using var call = new HttpRequestMessage(HttpMethod.Get, "http://orders/api/order");
    if (request.Headers.TryGetValue("x-user", out var user))
    {
        call.Headers.Add("x-user", user.ToString());
    }

    try
    {
        using var response = await clients.CreateClient("orders").SendAsync(call, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode ? Results.Text(body) : Results.Text($"error {(int)response.StatusCode}", statusCode: 502);
    }
    catch (HttpRequestException ex)
    {
        return Results.Text($"error: {ex.Message}", statusCode: 502);
    }
});
PortFile.WriteWhenStarted(app, app.Configuration["port-file"]);
app.Run();
