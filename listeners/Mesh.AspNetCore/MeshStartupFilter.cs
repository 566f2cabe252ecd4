using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Mesh.AspNetCore;

/// <summary>Puts <see cref="MeshInboundMiddleware"/> first in the app's pipeline, without app code.</summary>
internal sealed class MeshStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.UseMiddleware<MeshInboundMiddleware>();
        next(app);
    };
}
