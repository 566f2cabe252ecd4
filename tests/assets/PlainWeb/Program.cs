// An ordinary ASP.NET Core app with no reference to Mesh: GET /call calls http://{PLAIN_NEXT}/call (default
// service "orders") through an IHttpClientFactory client, from Task.Run to cross a thread-pool hop, and returns
// its own name followed by what answered.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.Services.AddHttpClient();
var app = builder.Build();
var name = Environment.GetEnvironmentVariable("PLAIN_NAME") ?? "plain";
var next = Environment.GetEnvironmentVariable("PLAIN_NEXT") ?? "orders";
app.MapGet("/call", async (IHttpClientFactory factory) =>
    name + " > " + await Task.Run(() => factory.CreateClient().GetStringAsync($"http://{next}/call")));
app.MapGet("/ping", () => name);
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine("listening " + string.Join(",", app.Urls)));
app.Run();
