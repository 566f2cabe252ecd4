using System.Diagnostics;

namespace Mesh.Examples.Demo;

/// <summary>One demo service instance run as a child process on 127.0.0.1 with a port of its own choosing.</summary>
internal sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _portFile;

    private ServiceProcess(string name, Process process, string portFile)
    {
        Name = name;
        _process = process;
        _portFile = portFile;
    }

    public string Name { get; }

    public string Address { get; private set; } = "";

    public static ServiceProcess Start(string name, string assembly, string workDirectory, IDictionary<string, string> environment)
    {
        var portFile = Path.Combine(workDirectory, $"{name}.port");
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { assembly, "--instance", name, "--port-file", portFile },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {name}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                Console.Error.WriteLine($"  [{name}] {line}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(name, process, portFile);
    }

    /// <summary>Waits until the service wrote its address, or fails if it exits or takes too long.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!File.Exists(_portFile))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was ready");
            }

            await Task.Delay(20, cts.Token);
        }

        Address = (await File.ReadAllTextAsync(_portFile, cts.Token)).Trim().TrimEnd('/');
    }

    /// <summary>Asks the process to stop gracefully (SIGTERM), as an orchestrator scaling in does.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    /// <summary>Waits for the process to exit.</summary>
    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    /// <summary>Kills the process at once, as a crash would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
