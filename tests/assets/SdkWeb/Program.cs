// An ASP.NET Core app that adopts the Mesh SDK with one call and nothing else. GET /call?n=N calls http://orders/
// N times through an IHttpClientFactory client (one line per call: the body, or FAIL and the reason); GET /raw does
// the same with a static HttpClient.
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.Services.AddStandardWebMesh();
builder.Services.AddHttpClient("orders");
var app = builder.Build();
var raw = new HttpClient();
app.MapGet("/call", (IHttpClientFactory factory, int? n) => Calls(factory.CreateClient("orders"), n ?? 1));
app.MapGet("/raw", (int? n) => Calls(raw, n ?? 1));
app.MapGet("/ping", () => "sdk");
app.Lifetime.ApplicationStarted.Register(() => Console.WriteLine("listening " + string.Join(",", app.Urls)));
app.Run();

static async Task<string> Calls(HttpClient client, int count)
{
    var lines = new List<string>();
    for (var i = 0; i < count; i++)
    {
        try
        {
            using var response = await client.GetAsync("http://orders/");
            lines.Add(response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : $"FAIL {(int)response.StatusCode}");
        }
        catch (HttpRequestException ex)
        {
            lines.Add($"FAIL {ex.GetType().Name}");
        }
    }

    return string.Join("\n", lines);
}
