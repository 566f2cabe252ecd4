namespace Mesh.Runtime;

/// <summary>
/// The mesh context of the work in progress: the lane, the calling service and the W3C baggage of the inbound
/// request that caused it. Flows with the <see cref="ExecutionContext"/>, so it follows <c>await</c>,
/// <c>Task.Run</c> and thread-pool work, and outbound calls made on behalf of the request carry it on.
/// </summary>
public sealed class MeshContext
{
    private static readonly AsyncLocal<MeshContext?> Ambient = new();

    /// <summary>Creates a context.</summary>
    public MeshContext(string? lane, string? caller = null, string? baggage = null)
    {
        Lane = lane;
        Caller = caller;
        Baggage = baggage;
    }

    /// <summary>The current context, or null outside any meshed request.</summary>
    public static MeshContext? Current
    {
        get => Ambient.Value;
        set => Ambient.Value = value;
    }

    /// <summary>The lane of the request.</summary>
    public string? Lane { get; }

    /// <summary>The verified name of the calling service.</summary>
    public string? Caller { get; }

    /// <summary>The raw W3C <c>baggage</c> header of the request.</summary>
    public string? Baggage { get; }

    /// <summary>Makes <paramref name="context"/> current until the returned scope is disposed.</summary>
    public static Scope Use(MeshContext? context)
    {
        var previous = Ambient.Value;
        Ambient.Value = context;
        return new Scope(previous);
    }

    /// <summary>Restores the previous context when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly MeshContext? _previous;

        internal Scope(MeshContext? previous) => _previous = previous;

        /// <inheritdoc />
        public void Dispose() => Ambient.Value = _previous;
    }
}
