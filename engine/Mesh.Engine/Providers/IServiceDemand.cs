namespace Mesh.Providers;

/// <summary>
/// A configuration source that compiles only the services a process uses (a scoped etcd provider) and takes a service
/// in on its first call. The runtime asks it when a call names a host its snapshot does not know.
/// </summary>
public interface IServiceDemand
{
    /// <summary>
    /// Called on the calling thread for a host the snapshot in force does not know. When the host is a service the
    /// source holds but had left out, it applies a snapshot with that service before returning true; the runtime then
    /// routes the call on it. Must be cheap and allocation-free for hosts that are no service at all (every call to
    /// an outside API asks), and must not throw.
    /// </summary>
    bool TryTakeIn(ReadOnlySpan<char> host);
}
