using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using Mesh.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Mesh.StartupHook;

/// <summary>
/// Joins the app's hosts to the hook's runtime without code in the app: every host built with
/// Microsoft.Extensions.Hosting (worker services, <c>Host.CreateApplicationBuilder</c>, <c>Host.CreateDefaultBuilder</c>,
/// and the web apps of <c>WebApplication.CreateBuilder</c> and <c>CreateSlimBuilder</c>, which build on it) announces
/// itself on the <c>Microsoft.Extensions.Hosting</c> diagnostic listener as <c>HostBuilding</c>, while its services
/// can still be added to. There the mesh adds itself, as <c>AddMesh()</c> would: the handler on every
/// <c>IHttpClientFactory</c> client (routing, retry, the gRPC client factory's opt-out), and in web hosts the inbound
/// middleware (lane and caller context, governance) and, on etcd, self-registration.
/// </summary>
internal sealed class HostJoin(MeshRuntime runtime, Assembly? etcd) : IObserver<KeyValuePair<string, object?>>
{
    private const string ListenerName = "Microsoft.Extensions.Hosting";
    private const string HostBuilding = "HostBuilding";
    private const string WebHostEnvironment = "Microsoft.AspNetCore.Hosting.IWebHostEnvironment";

    /// <summary>Watches for hosts being built in this process.</summary>
    public static void Watch(MeshRuntime runtime, Assembly? etcd)
        => MeshAgent.AddObserver(new ListenerObserver(ListenerName, new HostJoin(runtime, etcd), static (name, _, _) => name == HostBuilding));

    public void OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Key != HostBuilding)
        {
            return;
        }

        try
        {
            switch (value.Value)
            {
                case IHostApplicationBuilder application:
                    Join(application.Services);
                    break;
                case IHostBuilder host:
                    host.ConfigureServices((_, services) => Join(services));
                    break;
                default:
                    Console.Error.WriteLine($"[mesh] a host of type {value.Value?.GetType().FullName} is being built; the mesh does not know it: its factory clients and inbound requests are not meshed");
                    break;
            }
        }
        catch (Exception ex)
        {
            // Never fail the app's host: its calls are still routed by the listeners, without what the host adds.
            runtime.ReportExtensionFailure("host", ex);
        }
    }

    public void OnError(Exception error)
    {
    }

    public void OnCompleted()
    {
    }

    // Runs inside the app's Build() (an IHostBuilder runs its ConfigureServices callbacks there): every failure is
    // reported and swallowed, so the app's host is built with whatever joined before it.
    private void Join(IServiceCollection services)
    {
        IMeshBuilder mesh;
        try
        {
            mesh = JoinAnyHost(services);
        }
        catch (Exception ex)
        {
            runtime.ReportExtensionFailure("host", ex);
            return;
        }

        if (!services.Any(d => d.ServiceType.FullName == WebHostEnvironment))
        {
            return;
        }

        try
        {
            JoinWebHost(mesh);
        }
        catch (Exception ex)
        {
            runtime.ReportExtensionFailure("web host", ex);
        }

        try
        {
            JoinRegistration(mesh);
        }
        catch (Exception ex)
        {
            runtime.ReportExtensionFailure("etcd self-registration", ex);
        }
    }

    private IMeshBuilder JoinAnyHost(IServiceCollection services)
    {
        var mesh = services.AddMesh(options => options.ExternalRuntime = runtime);

        // The instances the hook made (the resilience package, extensions from MESH_EXTENSIONS_PATH), so that the
        // app's pipelines and the runtime share one instance of each extension type.
        foreach (var extension in runtime.Extensions)
        {
            mesh.AddExtension(extension);
        }

        return mesh;
    }

    // The web parts reference ASP.NET Core, which a worker service does not have: loaded only for web hosts.
    private static void JoinWebHost(IMeshBuilder mesh)
    {
        var context = AssemblyLoadContext.GetLoadContext(typeof(HostJoin).Assembly)!;
        context.LoadFromAssemblyName(new AssemblyName("Mesh.StartupHook.AspNetCore"))
            .GetType("Mesh.StartupHook.AspNetCore.MeshWebHost", throwOnError: true)!
            .GetMethod("Configure", BindingFlags.Public | BindingFlags.Static)!
            .Invoke(null, BindingFlags.DoNotWrapExceptions, null, [mesh], null);
    }

    // A named service on etcd registers itself, so callers find it without anyone writing its address.
    private void JoinRegistration(IMeshBuilder mesh)
    {
        if (etcd is not null && runtime.Options.ServiceName is not null && Environment.GetEnvironmentVariable(MeshEnvironment.Register) != "false")
        {
            // It sees the provider's internals, so it loads beside it: in the etcd component's context, from the
            // component's folder, or from the app's when the app ships the provider itself.
            var context = AssemblyLoadContext.GetLoadContext(etcd)!;
            var registration = context is ComponentLoadContext
                ? context.LoadFromAssemblyPath(Path.Combine(Path.GetDirectoryName(etcd.Location)!, "Mesh.Providers.Etcd.Registration.dll"))
                : context.LoadFromAssemblyName(new AssemblyName("Mesh.Providers.Etcd.Registration"));
            registration.GetType("Microsoft.Extensions.DependencyInjection.RegistrationMeshBuilderExtensions", throwOnError: true)!
                .GetMethod("AddEtcdSelfRegistration", BindingFlags.Public | BindingFlags.Static)!
                .Invoke(null, BindingFlags.DoNotWrapExceptions, null, [mesh, null, null], null);
        }
    }
}
