namespace Mesh.Configuration;

/// <summary>One reason a document was rejected: where (a JSON-path-like location) and why.</summary>
/// <param name="Path">Location in the document, e.g. <c>$.services.orders.endpoints[1].weight</c>.</param>
/// <param name="Message">What is wrong, in words an operator can act on.</param>
public sealed record ValidationError(string Path, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Path}: {Message}";
}
