// A console app with no reference to Mesh that ships older Microsoft.Extensions assemblies than the mesh uses:
// calls http://orders/... with an IHttpClientFactory client and with a plain HttpClient, one line per call.
using Microsoft.Extensions.DependencyInjection;

var count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 2;
using var services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
var factoryClient = services.GetRequiredService<IHttpClientFactory>().CreateClient();
using var plainClient = new HttpClient();
for (var i = 0; i < count; i++)
{
    foreach (var client in new[] { factoryClient, plainClient })
    {
        try
        {
            Console.WriteLine(await client.GetStringAsync($"http://orders/item/{i}"));
        }
        catch (HttpRequestException ex)
        {
            Console.WriteLine($"error: {ex.Message}");
        }
    }
}
