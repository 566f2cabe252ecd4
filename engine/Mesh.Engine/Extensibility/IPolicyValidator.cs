using Mesh.Configuration;

namespace Mesh.Extensibility;

/// <summary>
/// An extension that carries out part of the mesh's own policy (<c>retry</c>, <c>timeout</c>, <c>circuitBreaker</c>,
/// ...) on a library with limits of its own. The runtime has it check every policy before a document is applied, so a
/// value the library would refuse rejects the document (path and reason, the last good configuration kept) instead of
/// failing the extension on every call. It sees only policies that passed the mesh's own checks.
/// </summary>
public interface IPolicyValidator : IMeshExtension
{
    /// <summary>
    /// The problems with <paramref name="policy"/>, each with a path relative to the policy (<c>retry.backoff</c>);
    /// none when it is valid.
    /// </summary>
    IEnumerable<ValidationError> ValidatePolicy(PolicyDocument policy);
}
