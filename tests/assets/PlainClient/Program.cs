// An ordinary console app with no reference to Mesh: calls http://orders/... with a plain HttpClient and prints
// what answered, one line per call ("error: ..." when the call failed).
var count = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 4;
using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
for (var i = 0; i < count; i++)
{
    try
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://orders/item/{i}");
        if (Environment.GetEnvironmentVariable("PLAIN_USER") is { } user)
        {
            request.Headers.Add("x-user", user);
        }

        using var response = await client.SendAsync(request);
        Console.WriteLine(await response.Content.ReadAsStringAsync());
    }
    catch (HttpRequestException ex)
    {
        Console.WriteLine($"error: {ex.Message}");
    }
}
