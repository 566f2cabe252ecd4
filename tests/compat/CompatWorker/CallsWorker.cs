using Microsoft.Extensions.Hosting;

namespace CompatWorker;

// Makes COMPAT_CALLS calls with each client, one printed line per call, then "done", and stops the application.
public sealed class CallsWorker(OrdersClient orders, IHttpClientFactory factory, IHostApplicationLifetime lifetime)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var calls = int.TryParse(Environment.GetEnvironmentVariable("COMPAT_CALLS"), out var c) ? c : 20;
        try
        {
            for (var i = 0; i < calls; i++)
                Print("typed " + await Get(() => orders.GetAsync("/")));
            var polly = factory.CreateClient("orders-polly");
            for (var i = 0; i < calls; i++)
                Print("polly " + await Get(() => polly.GetAsync("http://orders/", stoppingToken)));
            Print("done");
        }
        finally
        {
            lifetime.StopApplication();
        }
    }

    private static void Print(string line)
    {
        Console.WriteLine(line);
        Console.Out.Flush();
    }

    // The body on success, else FAIL and the status code number or the exception type name.
    private static async Task<string> Get(Func<Task<HttpResponseMessage>> send)
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
