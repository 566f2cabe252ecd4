using System.Diagnostics;
using Mesh.Http;
using Mesh.Runtime;

namespace Mesh;

/// <summary>
/// The process-wide entry of the mesh: owns the one subscription to <see cref="DiagnosticListener.AllListeners"/>
/// and knows which <see cref="MeshRuntime"/> a request belongs to. Diagnostic listeners are process-wide, so this
/// is the single static mutable point of the mesh by design.
/// </summary>
public static class MeshAgent
{
    private static readonly AsyncLocal<MeshRuntime?> AmbientRuntime = new();
    private static readonly Lock Gate = new();
    private static MeshRuntime[] _runtimes = [];
    private static DiagnosticSubscriber? _subscriber;
    private static bool _builtInsRegistered;

    /// <summary>The runtime that routes calls not tied to another one: the first attached that is still attached.</summary>
    public static MeshRuntime? Default
    {
        get
        {
            var runtimes = Volatile.Read(ref _runtimes);
            return runtimes.Length == 0 ? null : runtimes[0];
        }
    }

    /// <summary>
    /// Attaches a runtime: the listeners start (once per process) and the runtime routes calls that are not tied to
    /// another one. Dispose the result to detach; the listeners stay subscribed and pass everything through.
    /// </summary>
    public static IDisposable Attach(MeshRuntime runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        lock (Gate)
        {
            _runtimes = [.. _runtimes, runtime];
            if (!_builtInsRegistered)
            {
                _builtInsRegistered = true;
                AddObserver(HttpClientObserver.Registration);
                AddObserver(GrpcClientObserver.Registration);
            }
        }

        return new Attachment(runtime);
    }

    /// <summary>
    /// Attaches an observer to the diagnostic listener it names, now and whenever such a listener appears.
    /// Listener packages (gRPC, ASP.NET Core) and custom extensions use this.
    /// </summary>
    public static void AddObserver(ListenerObserver registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        lock (Gate)
        {
            _subscriber ??= new DiagnosticSubscriber();
        }

        _subscriber.Register(registration);
    }

    /// <summary>
    /// Makes <paramref name="runtime"/> the one that routes calls made in the current async flow, e.g. while a
    /// meshed app handles an inbound request in a process that hosts several. Dispose to restore.
    /// </summary>
    public static MeshContextRuntimeScope UseRuntime(MeshRuntime? runtime)
    {
        var previous = AmbientRuntime.Value;
        AmbientRuntime.Value = runtime;
        return new MeshContextRuntimeScope(previous);
    }

    /// <summary>
    /// Whether an attached runtime, or the ambient one, knows <paramref name="host"/> as a service: the cheap first
    /// test that lets every other call pass through without its request being touched.
    /// </summary>
    internal static bool MayRoute(string host)
    {
        if (AmbientRuntime.Value is { } ambient && ambient.SnapshotFor(host).TryGetService(host, out _))
        {
            return true;
        }

        foreach (var runtime in Volatile.Read(ref _runtimes))
        {
            if (runtime.SnapshotFor(host).TryGetService(host, out _))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether calls made in the current async flow without a runtime of their own (a plain <c>HttpClient</c>'s) are
    /// routed by <paramref name="runtime"/> already: it is the ambient runtime, or there is none and it is the default.
    /// Then making it ambient (an async-local value every later await carries) changes nothing.
    /// </summary>
    public static bool Routes(MeshRuntime runtime) => ReferenceEquals(AmbientRuntime.Value ?? Default, runtime);

    /// <summary>Whether <paramref name="runtime"/> is attached: its services pass the first test of every call.</summary>
    internal static bool IsAttached(MeshRuntime runtime) => Array.IndexOf(Volatile.Read(ref _runtimes), runtime) >= 0;

    /// <summary>The runtime for a request: the one its client was built with, else the ambient one, else the default.</summary>
    internal static MeshRuntime? Resolve(HttpRequestMessage request)
        => request.Options.TryGetValue(MeshRequestOptions.Runtime, out var runtime) ? runtime : AmbientRuntime.Value ?? Default;

    /// <summary>Restores the previous ambient runtime when disposed.</summary>
    public readonly struct MeshContextRuntimeScope : IDisposable
    {
        private readonly MeshRuntime? _previous;

        internal MeshContextRuntimeScope(MeshRuntime? previous) => _previous = previous;

        /// <inheritdoc />
        public void Dispose() => AmbientRuntime.Value = _previous;
    }

    private sealed class Attachment(MeshRuntime runtime) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                lock (Gate)
                {
                    _runtimes = Array.FindAll(_runtimes, r => !ReferenceEquals(r, runtime));
                }
            }
        }
    }
}
