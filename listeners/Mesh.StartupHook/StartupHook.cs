using Mesh.StartupHook;

/// <summary>
/// The entry the .NET host calls before the app's <c>Main</c> when <c>DOTNET_STARTUP_HOOKS</c> names this assembly.
/// Must be a type named <c>StartupHook</c> in no namespace with a static <c>Initialize()</c>.
/// </summary>
internal static class StartupHook
{
    /// <summary>Starts the mesh; any failure is reported once on stderr and the app runs unmeshed.</summary>
    public static void Initialize()
    {
        try
        {
            DependencyResolver.Install();
            HookAgent.Start();
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"[mesh] startup hook failed, the app runs without the mesh: {ex.GetType().Name}: {ex.Message}");
        }
    }
}
