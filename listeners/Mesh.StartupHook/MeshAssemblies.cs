using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;

namespace Mesh.StartupHook;

/// <summary>
/// What the hook's folder holds beside what the app ships. The folder's top level is the mesh's shared layer (the
/// Mesh assemblies that meet the app's own types, and the Microsoft.Extensions versions they were compiled
/// against, the lowest they support); each folder under <c>components/</c> is one component with private
/// dependencies, loaded in a <see cref="ComponentLoadContext"/>.
/// </summary>
internal sealed class MeshAssemblies
{
    private readonly Dictionary<string, string> _app = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, AssemblyVersions?> _versions = new(StringComparer.OrdinalIgnoreCase);

    public MeshAssemblies(string folder)
    {
        Folder = folder;
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string trusted)
        {
            foreach (var path in trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                _app.TryAdd(Path.GetFileNameWithoutExtension(path), path);
            }
        }
    }

    /// <summary>The hook's folder.</summary>
    public string Folder { get; }

    /// <summary>
    /// Whether the shared layer runs in a load context of its own (the app ships older versions of what it needs):
    /// then that context's copies, from the hook folder, come before the app's.
    /// </summary>
    public bool Isolated { get; set; }

    /// <summary>The folder of a component, e.g. <c>components/etcd</c>.</summary>
    public string Component(string name) => Path.Combine(Folder, "components", name);

    /// <summary>
    /// The shared layer's assemblies that the app ships in an older version, as lines like
    /// <c>Microsoft.Extensions.Logging.Abstractions: app 7.0.0.0, mesh 8.0.0.0</c>; empty when none. The runtime binds
    /// every name once, to the app's copy when the app has one, so the mesh cannot load beside an older copy.
    /// </summary>
    public List<string> FindConflicts()
    {
        var conflicts = new List<string>();
        foreach (var path in Directory.EnumerateFiles(Folder, "*.dll"))
        {
            // Only names both sides have cost a metadata read.
            var name = Path.GetFileNameWithoutExtension(path);
            if (_app.ContainsKey(name) && AppVersion(name) is { } app && VersionOf(path)?.Assembly is { } mesh && app < mesh)
            {
                conflicts.Add($"{name}: app {app}, mesh {mesh}");
            }
        }

        return conflicts;
    }

    /// <summary>Whether <paramref name="name"/> is one of the mesh's shared assemblies (the contract every component binds to).</summary>
    public bool IsShared(string name) => name.StartsWith("Mesh.", StringComparison.OrdinalIgnoreCase) && File.Exists(Path.Combine(Folder, name + ".dll"));

    /// <summary>
    /// Whether the mesh's own context can give <paramref name="name"/> in the version of the component's copy at
    /// <paramref name="componentCopy"/> or a newer one. Versions compare by assembly version, then by file version:
    /// gRPC (2.0.0.0) and Polly (8.0.0.0) keep one assembly version across every release, so an app's older release
    /// would otherwise pass for the component's newer one and miss what the component calls.
    /// </summary>
    public bool HostProvides(string name, string componentCopy)
    {
        var hook = Path.Combine(Folder, name + ".dll");
        var host = Isolated && File.Exists(hook) ? hook : _app.TryGetValue(name, out var app) ? app : File.Exists(hook) ? hook : null;
        return host is not null && VersionOf(host) is { } hostVersion && VersionOf(componentCopy) is { } wanted && hostVersion.IsAtLeast(wanted);
    }

    private Version? AppVersion(string name) => _app.TryGetValue(name, out var path) ? VersionOf(path)?.Assembly : null;

    private AssemblyVersions? VersionOf(string path) => _versions.GetOrAdd(path, static p =>
    {
        try
        {
            var file = FileVersionInfo.GetVersionInfo(p);
            return new AssemblyVersions(AssemblyName.GetAssemblyName(p).Version ?? new Version(), new Version(file.FileMajorPart, file.FileMinorPart, file.FileBuildPart, file.FilePrivatePart));
        }
        catch (Exception ex) when (ex is IOException or BadImageFormatException or UnauthorizedAccessException)
        {
            return null;
        }
    });
}

/// <summary>An assembly's version and its file's, compared in that order.</summary>
internal sealed record AssemblyVersions(Version Assembly, Version File)
{
    public bool IsAtLeast(AssemblyVersions other)
        => Assembly.CompareTo(other.Assembly) is var byAssembly and not 0 ? byAssembly > 0 : File >= other.File;
}
