using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Mesh.Examples;

/// <summary>
/// The demo services listen on 127.0.0.1 port 0 and, once started, write the address they got to the file named by
/// <c>--port-file</c>, which is how the demo driver learns where to route.
/// </summary>
internal static class PortFile
{
    public static void WriteWhenStarted(WebApplication app, string? path)
    {
        if (path is null)
        {
            return;
        }

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
            File.WriteAllText(path + ".tmp", address);
            File.Move(path + ".tmp", path, overwrite: true);
        });
    }
}
