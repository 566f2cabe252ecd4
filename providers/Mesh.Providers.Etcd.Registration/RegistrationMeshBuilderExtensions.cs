using Mesh.Providers.Etcd;
using Mesh.Providers.Etcd.Registration;
using Microsoft.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of etcd self-registration.</summary>
public static class RegistrationMeshBuilderExtensions
{
    /// <summary>Registers this ASP.NET Core app as an endpoint of its service in etcd, for as long as it runs.</summary>
    public static IMeshBuilder AddEtcdSelfRegistration(this IMeshBuilder builder, Action<RegistrationOptions>? configure = null, Action<EtcdProviderOptions>? etcd = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var etcdOptions = EtcdEnvironment.ReadOptions() ?? new EtcdProviderOptions();
        etcd?.Invoke(etcdOptions);
        var options = RegistrationOptions.FromEnvironment();
        configure?.Invoke(options);
        builder.Services.AddSingleton<IHostedService>(provider => ActivatorUtilities.CreateInstance<EtcdSelfRegistration>(provider, etcdOptions, options));
        return builder;
    }
}
