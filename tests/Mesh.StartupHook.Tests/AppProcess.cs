using System.Diagnostics;
using System.Text;

namespace Mesh.StartupHook.Tests;

/// <summary>A test app run as a child process, with its output collected; killed on dispose.</summary>
internal sealed class AppProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private int _disposed;

    private AppProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(_stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Append(_stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public int ExitCode => _process.ExitCode;

    public bool HasExited => _process.HasExited;

    public static AppProcess Start(string assembly, IDictionary<string, string?> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(assembly);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // A child must not inherit a hook or mesh settings from whoever runs the tests.
        foreach (var key in new[] { "DOTNET_STARTUP_HOOKS", "MESH_CONFIG", "MESH_SERVICE_NAME", "MESH_ETCD_ENDPOINTS", "ASPNETCORE_HOSTINGSTARTUPASSEMBLIES", "MESH_EXTENSIONS_PATH", "MESH_INGRESS" })
        {
            info.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return new AppProcess(Process.Start(info)!);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits for the ASP.NET app's "listening URL" line and returns the URL.</summary>
    public async Task<string> WaitForAddressAsync()
    {
        await Testing.Eventually.UntilAsync(() => Stdout.Contains("listening ", StringComparison.Ordinal) || _process.HasExited, "the app to listen", TimeSpan.FromSeconds(30));
        var line = Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("listening ", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"the app exited: {Stdout} {Stderr}");
        return line["listening ".Length..].Trim().Split(',')[0];
    }

    /// <summary>Asks the app to stop gracefully (SIGTERM), as an orchestrator does.</summary>
    public void Terminate() => Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static void Append(StringBuilder builder, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (builder)
        {
            builder.AppendLine(line);
        }
    }
}
