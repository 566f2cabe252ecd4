using System.Diagnostics.Metrics;
using Mesh;
using Mesh.Extensibility;
using Mesh.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the mesh in an application's services.</summary>
public static class MeshServiceCollectionExtensions
{
    /// <summary>
    /// Adds the mesh: a runtime fed by the configured sources, the HttpClient listener, and a handler on every
    /// <c>IHttpClientFactory</c> client. With no arguments it reads the <c>Mesh</c> configuration section and
    /// the <c>MESH_*</c> environment variables.
    /// </summary>
    public static IMeshBuilder AddMesh(this IServiceCollection services, Action<MeshOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = new MeshBuilder(services);
        if (services.Any(d => d.ServiceType == typeof(MeshMarker)))
        {
            if (configure is not null)
            {
                services.Configure(configure);
            }

            return builder;
        }

        services.AddSingleton<MeshMarker>();
        services.AddOptions<MeshOptions>().Configure<IServiceProvider>((options, provider) =>
        {
            var configuration = provider.GetService<IConfiguration>();
            var section = configuration?.GetSection("Mesh");
            options.ConfigPath ??= section?["ConfigPath"] ?? Environment.GetEnvironmentVariable(MeshEnvironment.Config);
            options.ServiceName ??= section?["ServiceName"] ?? Environment.GetEnvironmentVariable(MeshEnvironment.ServiceName);
            options.Ingress ??= bool.TryParse(section?["Ingress"] ?? Environment.GetEnvironmentVariable(MeshEnvironment.Ingress), out var ingress) && ingress;
        });
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<MeshOptions>>().Value;
            if (options.ExternalRuntime is { } external)
            {
                return external;
            }

            options.Runtime.ServiceName ??= options.ServiceName;
            return new MeshRuntime(options.Runtime, provider.GetService<ILoggerFactory>(), provider.GetService<TimeProvider>(), provider.GetService<IMeterFactory>());
        });
        services.AddHostedService<MeshHostedService>();
        services.AddHttpClient();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHttpMessageHandlerBuilderFilter, MeshHandlerBuilderFilter>());
        return builder;
    }

    /// <summary>
    /// Adds an extension: one singleton that joins every point it implements (<see cref="IOutcomeObserver"/>,
    /// <see cref="IOutboundExtension"/>, and in ASP.NET Core apps the inbound pipeline). If its constructor throws,
    /// the failure is logged and counted (<c>mesh.extension.failures</c>) and the app runs without it.
    /// </summary>
    public static IMeshBuilder AddExtension<T>(this IMeshBuilder builder)
        where T : class, IMeshExtension
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<T>();
        builder.Services.TryAddSingleton<IsolatedExtension<T>>();

        // Typed as T, so that TryAddEnumerable also recognises the type when it is added as an instance.
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IMeshExtension, T>(provider => provider.GetRequiredService<IsolatedExtension<T>>().Instance!));
        return builder;
    }

    /// <summary>Adds an extension instance; an extension of the same type added before or after is not added again.</summary>
    public static IMeshBuilder AddExtension(this IMeshBuilder builder, IMeshExtension extension)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton(typeof(IMeshExtension), extension));
        return builder;
    }

    private sealed class MeshMarker;
}
