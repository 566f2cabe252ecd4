using Microsoft.Extensions.DependencyInjection;

namespace Mesh.StartupHook.AspNetCore;

/// <summary>
/// The web half of the startup hook's host join: what a web host gets beyond what every host gets. Kept out of the
/// hook's own assembly because it references ASP.NET Core, which worker services and console apps do not have.
/// </summary>
public static class MeshWebHost
{
    /// <summary>Adds the inbound middleware (lane, baggage and caller context for the calls the request makes) and governance.</summary>
    public static void Configure(IMeshBuilder mesh) => mesh.AddMeshInbound().AddGovernance();
}
