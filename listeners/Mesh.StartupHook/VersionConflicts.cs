using System.Reflection;

namespace Mesh.StartupHook;

/// <summary>
/// Finds the assemblies the mesh needs in a newer version than the app ships. The runtime binds every assembly
/// name once, to the app's copy when the app has one; a mesh built against a newer version of, say,
/// Microsoft.Extensions.Logging.Abstractions cannot then load in the app's context at all.
/// </summary>
internal static class VersionConflicts
{
    /// <summary>Lines like <c>Microsoft.Extensions.Logging.Abstractions: app 8.0.0.0, mesh 10.0.0.0</c>; empty when none.</summary>
    public static List<string> Find(string hookFolder)
    {
        var conflicts = new List<string>();
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is not string trusted)
        {
            return conflicts;
        }

        var appAssemblies = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var path in trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            appAssemblies.TryAdd(Path.GetFileNameWithoutExtension(path), path);
        }

        foreach (var path in Directory.EnumerateFiles(hookFolder, "*.dll"))
        {
            // Only names both sides have cost a metadata read.
            if (!appAssemblies.TryGetValue(Path.GetFileNameWithoutExtension(path), out var appPath))
            {
                continue;
            }

            var mesh = AssemblyName.GetAssemblyName(path);
            var app = AssemblyName.GetAssemblyName(appPath);
            if (app.Version < mesh.Version)
            {
                conflicts.Add($"{mesh.Name}: app {app.Version}, mesh {mesh.Version}");
            }
        }

        return conflicts;
    }
}
