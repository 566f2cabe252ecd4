namespace Mesh.Extensibility;

/// <summary>
/// Marks an exception an extension throws on purpose to fail a call (a circuit breaker that is open, a full
/// bulkhead). The mesh isolates an extension that throws by skipping it, which would defeat such a rejection; an
/// exception with this marker is let through to the caller instead.
/// </summary>
public interface IMeshRejection
{
    /// <summary>The service whose call was rejected.</summary>
    string Service { get; }
}
