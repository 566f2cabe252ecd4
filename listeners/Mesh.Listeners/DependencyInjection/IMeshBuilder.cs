namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Returned by <c>AddMesh()</c>; providers and extensions hang their registration off it.</summary>
public interface IMeshBuilder
{
    /// <summary>The application's services.</summary>
    IServiceCollection Services { get; }
}

internal sealed class MeshBuilder(IServiceCollection services) : IMeshBuilder
{
    public IServiceCollection Services { get; } = services;
}
