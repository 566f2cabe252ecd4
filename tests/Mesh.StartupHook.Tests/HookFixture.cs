using System.Diagnostics;

namespace Mesh.StartupHook.Tests;

/// <summary>
/// Publishes the startup hook once per test run (or takes <c>MESH_TEST_HOOK_DIR</c>, published by test.sh) and
/// finds the plain test apps, built next to the tests.
/// </summary>
public sealed class HookFixture : IAsyncLifetime
{
    public string HookPath { get; private set; } = "";

    public string Repository { get; } = FindRepository();

    public string Configuration { get; } = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>The build output folder of a project, as a folder of extensions for <c>MESH_EXTENSIONS_PATH</c>.</summary>
    public string Output(string project) => Path.Combine(Repository, project, "bin", Configuration, "net10.0");

    public string App(string name, string targetFramework = "net10.0") => Path.Combine(Repository, "tests", "assets", name, "bin", Configuration, targetFramework, name + ".dll");

    public async Task InitializeAsync()
    {
        var prebuilt = Environment.GetEnvironmentVariable("MESH_TEST_HOOK_DIR");
        if (prebuilt is { Length: > 0 } && File.Exists(Path.Combine(prebuilt, "Mesh.StartupHook.dll")))
        {
            HookPath = Path.Combine(prebuilt, "Mesh.StartupHook.dll");
            return;
        }

        var output = Directory.CreateTempSubdirectory("mesh-hook-").FullName;
        var publish = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "publish", Path.Combine(Repository, "listeners", "Mesh.StartupHook"), "-c", Configuration, "-o", output, "-nologo", "-v", "q" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var log = await publish.StandardOutput.ReadToEndAsync() + await publish.StandardError.ReadToEndAsync();
        await publish.WaitForExitAsync();
        Assert.True(publish.ExitCode == 0, $"publishing the hook failed: {log}");
        HookPath = Path.Combine(output, "Mesh.StartupHook.dll");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static string FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Mesh.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Mesh.sln not found above the test assembly");
    }
}
