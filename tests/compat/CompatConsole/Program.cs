// An ordinary console app that knows nothing of any service mesh and has no host: COMPAT_CALLS calls of
// http://orders/ through one new HttpClient(), then as many through an IHttpClientFactory client, one printed line
// per call. See ../README.md for the protocol.
using Microsoft.Extensions.DependencyInjection;

var calls = int.TryParse(Environment.GetEnvironmentVariable("COMPAT_CALLS"), out var c) ? c : 4;
using var services = new ServiceCollection().AddHttpClient("orders").Services.BuildServiceProvider();

using (var raw = new HttpClient())
{
    for (var i = 0; i < calls; i++)
        Print("raw " + await Get(() => raw.GetAsync("http://orders/")));
}

var factory = services.GetRequiredService<IHttpClientFactory>().CreateClient("orders");
for (var i = 0; i < calls; i++)
    Print("factory " + await Get(() => factory.GetAsync("http://orders/")));
return 0;

static void Print(string line)
{
    Console.WriteLine(line);
    Console.Out.Flush();
}

// The body on success, else FAIL and the status code number or the exception type name.
static async Task<string> Get(Func<Task<HttpResponseMessage>> send)
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
