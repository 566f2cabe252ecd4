using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Mesh.Testing;

/// <summary>Helpers for apps started on port 0.</summary>
public static class WebApplicationExtensions
{
    /// <summary>The address a started app listens on, <c>http://127.0.0.1:{port}</c>, without a trailing slash.</summary>
    public static string ListeningAddress(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First().TrimEnd('/');
    }
}
