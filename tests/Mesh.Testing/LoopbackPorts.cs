using System.Net;
using System.Net.Sockets;

namespace Mesh.Testing;

/// <summary>Ports on 127.0.0.1 for the real servers tests start, and for instances that are down.</summary>
public static class LoopbackPorts
{
    /// <summary>
    /// A port nothing listens on: bound, then released. A server can take it; until one does, connections to it are
    /// refused, as they are to a killed instance.
    /// </summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
