using Mesh.Providers.Etcd;
using Mesh.Providers.Etcd.Registration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of etcd self-registration.</summary>
public static class RegistrationMeshBuilderExtensions
{
    /// <summary>
    /// Registers this ASP.NET Core app as an endpoint of its service in etcd, for as long as it runs. Once per app: a
    /// second call (the app's own <c>AddStandardWebMesh()</c> and the startup hook's, say) adds nothing, so one lease
    /// and one drain stand for the app.
    /// </summary>
    public static IMeshBuilder AddEtcdSelfRegistration(this IMeshBuilder builder, Action<RegistrationOptions>? configure = null, Action<EtcdProviderOptions>? etcd = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var etcdOptions = EtcdEnvironment.ReadOptions() ?? new EtcdProviderOptions();
        etcd?.Invoke(etcdOptions);
        var options = RegistrationOptions.FromEnvironment();
        configure?.Invoke(options);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, EtcdSelfRegistration>(provider => ActivatorUtilities.CreateInstance<EtcdSelfRegistration>(provider, etcdOptions, options)));
        return builder;
    }
}
