namespace Mesh.AspNetCore;

/// <summary>
/// Set on a request whose caller header has no valid signature while the mesh signs callers: someone claimed to be
/// <see cref="ClaimedCaller"/> without the key. The request runs with no caller in its mesh context; an
/// authorization extension answers it with 403.
/// </summary>
/// <param name="ClaimedCaller">The caller name the request claimed.</param>
public sealed record ForgedCallerFeature(string ClaimedCaller);
