// The stock service: knows nothing of Mesh. It answers with its instance name and the lane it was called in,
// which shows that the lane travelled frontend → orders → stock.
using Mesh.Examples;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.WebHost.UseUrls("http://127.0.0.1:0");
var app = builder.Build();
var instance = app.Configuration["instance"] ?? "stock";
app.MapGet("/api/stock", (HttpRequest request) =>
{
    var lane = request.Headers["x-mesh-lane"].ToString();
    return $"{instance}{(lane.Length > 0 ? $" [lane {lane}]" : "")}";
});
PortFile.WriteWhenStarted(app, app.Configuration["port-file"]);
app.Run();
