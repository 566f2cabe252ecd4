// An ordinary generic-host worker that knows nothing of any service mesh: a BackgroundService calls http://orders
// through a typed client and through a named client with a Polly retry policy, prints one line per call, then
// "done", and stops the host. See ../README.md for the protocol.
using CompatWorker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;

static void AddServices(IServiceCollection services)
{
    services.AddHttpClient<OrdersClient>(c => c.BaseAddress = new Uri("http://orders"));
    services.AddHttpClient("orders-polly").AddTransientHttpErrorPolicy(p => p.RetryAsync(2));
    services.AddHostedService<CallsWorker>();
}

IHost host;
if (Environment.GetEnvironmentVariable("COMPAT_BUILDER") == "default")
{
    host = Host.CreateDefaultBuilder(args)
        .ConfigureLogging(logging => logging.ClearProviders())
        .ConfigureServices((_, services) => AddServices(services))
        .Build();
}
else
{
    var builder = Host.CreateApplicationBuilder(args);
    builder.Logging.ClearProviders();
    AddServices(builder.Services);
    host = builder.Build();
}
await host.RunAsync();
