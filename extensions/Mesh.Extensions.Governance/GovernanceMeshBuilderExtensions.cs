using Mesh.Extensions.Governance;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registration of the governance extensions.</summary>
public static class GovernanceMeshBuilderExtensions
{
    /// <summary>Inbound rate and concurrency limits from the service's own <c>policy.extensions.rateLimit</c>.</summary>
    public static IMeshBuilder AddRateLimiting(this IMeshBuilder builder)
        => Inbound(builder).AddExtension<RateLimitExtension>();

    /// <summary>Inbound caller authorization from the service's own <c>policy.extensions.authorization</c>.</summary>
    public static IMeshBuilder AddCallerAuthorization(this IMeshBuilder builder)
        => Inbound(builder).AddExtension<AuthorizationExtension>();

    /// <summary>Fault injection on factory clients from the called service's <c>policy.extensions.faults</c>.</summary>
    public static IMeshBuilder AddFaultInjection(this IMeshBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddExtension<FaultInjectionExtension>();
    }

    /// <summary>Rate limiting, caller authorization and fault injection; each acts only where a policy configures it.</summary>
    public static IMeshBuilder AddGovernance(this IMeshBuilder builder)
        => builder.AddRateLimiting().AddCallerAuthorization().AddFaultInjection();

    private static IMeshBuilder Inbound(IMeshBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeshInbound();
    }
}
