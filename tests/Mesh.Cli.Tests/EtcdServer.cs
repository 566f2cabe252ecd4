using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Mesh.Cli.Tests;

/// <summary>
/// A real etcd on free 127.0.0.1 ports with a temporary data folder, shared by the tests of a class. Tests keep
/// apart by using their own key prefix. Killed (with its folder) on dispose.
/// </summary>
public sealed class EtcdServer : IAsyncLifetime
{
    private Process? _process;
    private string? _dataDir;

    /// <summary><c>http://127.0.0.1:{port}</c>.</summary>
    public string Endpoint { get; private set; } = "";

    /// <summary>A fresh key prefix for one test.</summary>
    public static string NewPrefix() => $"/mesh-test-{Guid.NewGuid():N}";

    public async Task InitializeAsync()
    {
        var clientPort = FreePort();
        var peerPort = FreePort();
        _dataDir = Directory.CreateTempSubdirectory("mesh-etcd-").FullName;
        Endpoint = $"http://127.0.0.1:{clientPort}";
        var peer = $"http://127.0.0.1:{peerPort}";
        var start = new ProcessStartInfo("etcd")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--name", "mesh-test", "--data-dir", _dataDir,
            "--listen-client-urls", Endpoint, "--advertise-client-urls", Endpoint,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"mesh-test={peer}", "--log-level", "error",
        })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("etcd did not start (apt-get install -y etcd-server)");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Testing.Eventually.UntilAsync(async () =>
        {
            try
            {
                return (await http.GetStringAsync($"{Endpoint}/health")).Contains("true", StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, $"etcd healthy on {Endpoint}");
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        if (_dataDir is not null)
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
