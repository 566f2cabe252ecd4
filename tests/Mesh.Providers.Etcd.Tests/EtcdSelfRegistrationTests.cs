using Etcdserverpb;
using Mesh.Providers.Etcd.Registration;
using Mesh.Runtime;
using Mesh.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static Mesh.Providers.Etcd.Tests.EtcdTestOptions;

namespace Mesh.Providers.Etcd.Tests;

/// <summary>An ASP.NET Core app that registers itself in etcd: lease loss, graceful stop.</summary>
public sealed class EtcdSelfRegistrationTests
{
    private const string Key = "/services/orders/endpoints/self";

    [Fact]
    public void AddedTwice_RegistersOnce()
    {
        // The app's own AddStandardWebMesh() and the startup hook's join both ask for it: one lease, one drain.
        static int HostedServices(IServiceCollection services) => services.Count(d => d.ServiceType == typeof(Microsoft.Extensions.Hosting.IHostedService));
        var once = new ServiceCollection();
        once.AddMesh().AddEtcdSelfRegistration();
        var twice = new ServiceCollection();
        twice.AddMesh().AddEtcdSelfRegistration().AddEtcdSelfRegistration();

        Assert.Equal(HostedServices(once), HostedServices(twice));
        Assert.Equal(HostedServices(new ServiceCollection().AddMesh().Services) + 1, HostedServices(once));
    }

    private static async Task<WebApplication> StartAppAsync(EtcdServer etcd, string prefix, Action<RegistrationOptions> configure, TimeProvider? time = null)
    {
        var app = BuildApp(For(etcd, prefix), configure, time);
        await app.StartAsync();
        return app;
    }

    private static WebApplication BuildApp(EtcdProviderOptions etcd, Action<RegistrationOptions> configure, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.Services.AddMesh().AddEtcdSelfRegistration(
            options =>
            {
                options.ServiceName = "orders";
                options.EndpointId = "self";
                configure(options);
            },
            options =>
            {
                options.Prefix = etcd.Prefix;
                options.Endpoints.Clear();
                foreach (var endpoint in etcd.Endpoints)
                {
                    options.Endpoints.Add(endpoint);
                }
            });
        var app = builder.Build();
        app.MapGet("/", () => "self");
        return app;
    }

    // Waits until the endpoint key exists and returns the lease it is bound to.
    private static async Task<long> RegisteredLeaseAsync(dotnet_etcd.EtcdClient client, string key)
    {
        long lease = 0;
        await Eventually.UntilAsync(async () =>
        {
            var response = await client.GetAsync(key);
            lease = response.Count > 0 ? response.Kvs[0].Lease : 0;
            return lease != 0;
        }, $"{key} to be registered", Converge);
        return lease;
    }

    [Fact]
    public async Task LeaseRevoked_EndpointRegisteredAgainUnderNewLease()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        await using var app = await StartAppAsync(etcd, "/r1", options =>
        {
            options.LeaseTtl = TimeSpan.FromSeconds(3);
            options.DrainDelay = TimeSpan.Zero;
        });
        var first = await RegisteredLeaseAsync(client, "/r1" + Key);

        await client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = first });
        Assert.Equal(0, (await client.GetAsync("/r1" + Key)).Count);

        var second = await RegisteredLeaseAsync(client, "/r1" + Key);
        Assert.NotEqual(first, second);
        Assert.Contains(app.ListeningAddress(), (await client.GetAsync("/r1" + Key)).Kvs[0].Value.ToStringUtf8(), StringComparison.Ordinal);
        await app.StopAsync();
    }

    [Fact]
    public async Task GracefulStop_KeyDeletedFirst_ServesWhileDraining_DrainOnMeshClock()
    {
        await using var etcd = await EtcdServer.StartAsync();
        using var client = etcd.Client();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await StartAppAsync(etcd, "/r2", options => options.DrainDelay = TimeSpan.FromHours(1), time);
        await RegisteredLeaseAsync(client, "/r2" + Key);

        // The drain runs inside ApplicationStopping, which blocks the caller of StopAsync until it ends.
        var stopping = Task.Run(() => app.StopAsync());
        await Eventually.UntilAsync(async () => (await client.GetAsync("/r2" + Key)).Count == 0, "the key to be deleted first", Converge);
        using var http = new HttpClient();
        Assert.Equal("self", await http.GetStringAsync(app.ListeningAddress() + "/"));
        Assert.False(stopping.IsCompleted);

        // An hour of drain passes on the mesh clock at once; a wall-clock sleep would hold the stop for the hour.
        await Eventually.UntilAsync(() =>
        {
            time.Advance(TimeSpan.FromHours(1));
            return stopping.IsCompleted;
        }, "the stop to finish once the drain delay passed", Converge);
        await stopping;
    }

    [Fact]
    public async Task NoEtcdEndpoints_AppServesUnregistered_FailureCounted()
    {
        await using var app = BuildApp(new EtcdProviderOptions(), options => options.DrainDelay = TimeSpan.Zero);
        using var failures = new MetricRecorder(app.Services.GetRequiredService<MeshRuntime>().Telemetry.Meter, "mesh.provider.failures");

        await app.StartAsync();

        await Eventually.UntilAsync(() => failures.Measurements.Length > 0, "the bad registration settings to be reported", Converge);
        Assert.Equal(nameof(ArgumentException), failures.Measurements[0].Tag("mesh.reason"));
        using var http = new HttpClient();
        Assert.Equal("self", await http.GetStringAsync(app.ListeningAddress() + "/"));
        await app.StopAsync();
    }
}
