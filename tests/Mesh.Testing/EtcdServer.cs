using System.Diagnostics;
using dotnet_etcd;

namespace Mesh.Testing;

/// <summary>
/// Real etcd members (the Debian package's binary) on free 127.0.0.1 ports with their own data folders; one
/// member or a cluster. Members can be stopped, killed and started again; everything is killed on dispose.
/// </summary>
public sealed class EtcdServer : IAsyncDisposable
{
    private readonly Member[] _members;
    private readonly string _root;

    private EtcdServer(Member[] members, string root)
    {
        _members = members;
        _root = root;
    }

    public IReadOnlyList<string> ClientUrls => [.. _members.Select(m => m.ClientUrl)];

    public string Endpoints => string.Join(",", ClientUrls);

    public static async Task<EtcdServer> StartAsync(int size = 1)
    {
        var root = Directory.CreateTempSubdirectory("mesh-etcd-").FullName;
        var members = Enumerable.Range(0, size).Select(i => new Member($"m{i}", LoopbackPorts.Free(), LoopbackPorts.Free(), Path.Combine(root, $"m{i}"))).ToArray();
        var cluster = string.Join(",", members.Select(m => $"{m.Name}={m.PeerUrl}"));
        foreach (var member in members)
        {
            member.Start(cluster);
        }

        var server = new EtcdServer(members, root);
        await server.WaitHealthyAsync();
        return server;
    }

    public EtcdClient Client() => new(Endpoints);

    /// <summary>Waits until a quorum serves reads.</summary>
    public async Task WaitHealthyAsync()
    {
        await Eventually.UntilAsync(async () =>
        {
            foreach (var member in _members.Where(m => m.Running))
            {
                try
                {
                    using var client = new EtcdClient(member.ClientUrl);
                    await client.GetAsync("health-probe", deadline: DateTime.UtcNow.AddSeconds(1));
                    return true;
                }
                catch (Exception ex) when (ex is Grpc.Core.RpcException or HttpRequestException or OperationCanceledException)
                {
                }
            }

            return false;
        }, "etcd to serve requests", TimeSpan.FromSeconds(30));
    }

    /// <summary>The client URL of the current leader.</summary>
    public async Task<int> LeaderIndexAsync()
    {
        using var client = Client();
        for (var i = 0; i < _members.Length; i++)
        {
            if (!_members[i].Running)
            {
                continue;
            }

            using var memberClient = new EtcdClient(_members[i].ClientUrl);
            var status = await memberClient.StatusAsync(new Etcdserverpb.StatusRequest());
            if (status.Leader == status.Header.MemberId)
            {
                return i;
            }
        }

        throw new InvalidOperationException("no leader");
    }

    public void Kill(int index) => _members[index].Kill();

    /// <summary>Freezes every member (SIGSTOP): connections are accepted, nothing answers, as a hung member does.</summary>
    public void PauseAll() => Signal("-STOP");

    /// <summary>Lets frozen members go on (SIGCONT).</summary>
    public void ResumeAll() => Signal("-CONT");

    public void KillAll()
    {
        foreach (var member in _members)
        {
            member.Kill();
        }
    }

    /// <summary>Starts stopped members again on their old ports and data.</summary>
    public async Task RestartAllAsync()
    {
        var cluster = string.Join(",", _members.Select(m => $"{m.Name}={m.PeerUrl}"));
        foreach (var member in _members.Where(m => !m.Running))
        {
            member.Start(cluster);
        }

        await WaitHealthyAsync();
    }

    private void Signal(string signal)
    {
        foreach (var member in _members)
        {
            if (member.ProcessId is { } pid)
            {
                using var kill = Process.Start("kill", [signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                kill.WaitForExit();
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        KillAll();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    private sealed class Member(string name, int clientPort, int peerPort, string dataDir)
    {
        private Process? _process;

        public string Name { get; } = name;

        public string ClientUrl { get; } = $"http://127.0.0.1:{clientPort}";

        public string PeerUrl { get; } = $"http://127.0.0.1:{peerPort}";

        public bool Running => _process is { HasExited: false };

        public int? ProcessId => Running ? _process!.Id : null;

        public void Start(string cluster)
        {
            var info = new ProcessStartInfo("etcd")
            {
                ArgumentList =
                {
                    "--name", Name, "--data-dir", dataDir,
                    "--listen-client-urls", ClientUrl, "--advertise-client-urls", ClientUrl,
                    "--listen-peer-urls", PeerUrl, "--initial-advertise-peer-urls", PeerUrl,
                    "--initial-cluster", cluster, "--initial-cluster-state", "new",
                    "--heartbeat-interval", "50", "--election-timeout", "500",
                    "--logger", "zap", "--log-level", "error",
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            _process = Process.Start(info)!;
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public void Kill()
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill();
                process.WaitForExit();
            }
        }
    }
}
