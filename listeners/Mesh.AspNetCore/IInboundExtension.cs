using Mesh.Extensibility;
using Microsoft.AspNetCore.Http;

namespace Mesh.AspNetCore;

/// <summary>
/// Joins the inbound pipeline of a meshed ASP.NET Core app, after the mesh context of the request is restored
/// (so <see cref="Runtime.MeshContext.Current"/> holds the lane and caller). Runs in <see cref="IMeshExtension.Order"/>.
/// </summary>
public interface IInboundExtension : IMeshExtension
{
    /// <summary>Handles the request: call <paramref name="next"/> to go on, or answer it (e.g. 429, 403).</summary>
    Task InvokeAsync(HttpContext context, RequestDelegate next);
}
