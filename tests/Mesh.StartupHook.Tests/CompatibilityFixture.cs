using System.Diagnostics;

namespace Mesh.StartupHook.Tests;

/// <summary>
/// The compatibility apps of <c>tests/compat</c>: apps that know nothing of Mesh, built from their own project files
/// outside the repository's central package versions, one folder per cell (a set of package versions). Built by
/// <c>tests/compat/build.sh</c> (test.sh runs it first and passes <c>MESH_TEST_COMPAT_DIR</c>; otherwise this
/// fixture runs it; cells already built are not built again).
/// </summary>
public sealed class CompatibilityFixture : IAsyncLifetime
{
    private readonly HookFixture _hook = new();

    /// <summary>Where the cells are.</summary>
    public string Root { get; private set; } = "";

    /// <summary>The published hook.</summary>
    public string HookPath => _hook.HookPath;

    /// <summary>The main assembly of a cell, e.g. <c>App("web-grpc-2.71", "CompatWeb")</c>.</summary>
    public string App(string cell, string project) => Path.Combine(Root, cell, project + ".dll");

    /// <summary>The build output folder of a project of this repository.</summary>
    public string Output(string project) => _hook.Output(project);

    public async Task InitializeAsync()
    {
        await _hook.InitializeAsync();
        if (Environment.GetEnvironmentVariable("MESH_TEST_COMPAT_DIR") is { Length: > 0 } built)
        {
            Root = built;
            return;
        }

        Root = Path.Combine(_hook.Repository, "tests", "compat", "out");
        var build = Process.Start(new ProcessStartInfo("bash")
        {
            ArgumentList = { Path.Combine(_hook.Repository, "tests", "compat", "build.sh"), Root },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var log = await build.StandardOutput.ReadToEndAsync() + await build.StandardError.ReadToEndAsync();
        await build.WaitForExitAsync();
        Assert.True(build.ExitCode == 0, $"building the compatibility apps failed: {log}");
    }

    public Task DisposeAsync() => _hook.DisposeAsync();
}
