using System.Net.Sockets;

namespace Mesh.StartupHook.Tests;

internal static class Ports
{
    /// <summary>A loopback port nothing listens on: bound, then released, so connections to it are refused like a killed instance's.</summary>
    public static int Refused()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
