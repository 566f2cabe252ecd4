using Mesh.Configuration;
using Mesh.Runtime;
using Microsoft.Extensions.Logging;

namespace Mesh.Providers;

/// <summary>
/// The embedded default provider: one JSON file in the contract's shape (<c>MESH_CONFIG</c>), reloaded when it
/// changes. An edit that does not parse or validate is rejected with the file, field and reason, and the last
/// good configuration stays in force.
/// </summary>
public sealed partial class JsonFileConfigSource : IMeshConfigSource
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    private readonly string _path;
    private readonly Lock _gate = new();
    private MeshRuntime? _runtime;
    private ILogger? _logger;
    private FileSystemWatcher? _watcher;
    private ITimer? _debounceTimer;
    private ITimer? _pollTimer;
    private (string? Target, DateTime WriteTime, long Length) _lastSeen;

    /// <summary>Creates a source over <paramref name="path"/>.</summary>
    public JsonFileConfigSource(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        _path = Path.GetFullPath(path);
    }

    /// <inheritdoc />
    public string Name => _path;

    /// <inheritdoc />
    public Task StartAsync(MeshRuntime runtime, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        _runtime = runtime;
        _logger = runtime.LoggerFactory.CreateLogger("Mesh.Providers.File");
        Reload();

        var directory = Path.GetDirectoryName(_path)!;
        _debounceTimer = runtime.Time.CreateTimer(_ => Reload(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        try
        {
            // Editors save by rename or truncate-and-write; watching the folder for the name catches both.
            _watcher = new FileSystemWatcher(directory, Path.GetFileName(_path))
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.FileName | NotifyFilters.CreationTime,
            };
            _watcher.Changed += OnFileEvent;
            _watcher.Created += OnFileEvent;
            _watcher.Renamed += OnFileEvent;
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or PlatformNotSupportedException)
        {
            Log.WatchUnavailable(_logger, _path, ex.Message);
        }

        // File watchers can miss events (network file systems, inotify limits); a slow poll is the safety net.
        _pollTimer = runtime.Time.CreateTimer(_ => ReloadIfChanged(), null, PollInterval, PollInterval);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _watcher?.Dispose();
        _debounceTimer?.Dispose();
        _pollTimer?.Dispose();
        return ValueTask.CompletedTask;
    }

    private void OnFileEvent(object sender, FileSystemEventArgs e) => _debounceTimer?.Change(Debounce, Timeout.InfiniteTimeSpan);

    private void ReloadIfChanged() => Reload(onlyIfChanged: true);

    // A Kubernetes ConfigMap is a link into a folder that is swapped as a whole (mesh.json -> ..data/mesh.json,
    // ..data -> ..2026_01_01...): the links themselves never change, so the file they end at is what is compared, by
    // its real folder as well, since the new file may have the same size and time.
    private (string? Target, DateTime WriteTime, long Length) Stamp()
    {
        try
        {
            FileSystemInfo info = new FileInfo(_path);
            if (info.LinkTarget is not null)
            {
                info = info.ResolveLinkTarget(returnFinalTarget: true) ?? info;
            }

            if (info is not FileInfo { Exists: true } file)
            {
                return default;
            }

            var folder = file.Directory!;
            var realFolder = folder.LinkTarget is null ? folder.FullName : folder.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? folder.FullName;
            return (Path.Combine(realFolder, file.Name), file.LastWriteTimeUtc, file.Length);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A link loop or a folder being swapped: read as missing; the next poll looks again.
            return default;
        }
    }

    private void Reload(bool onlyIfChanged = false)
    {
        lock (_gate)
        {
            var runtime = _runtime!;
            try
            {
                var stamp = Stamp();
                if (onlyIfChanged && stamp == _lastSeen)
                {
                    return;
                }

                _lastSeen = stamp;
                if (stamp.Length > MeshJson.MaxDocumentLength)
                {
                    // Refused before reading it: a runaway file must not take the app's memory.
                    runtime.ReportRejections(_path, [new ValidationError("$", $"file is {stamp.Length} bytes, over the limit of {MeshJson.MaxDocumentLength}")]);
                    return;
                }

                var json = File.ReadAllText(_path);
                runtime.ApplyJson(json, _path, MeshConfigLayer.File);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                runtime.ReportRejections(_path, [new ValidationError("$", $"cannot read the file: {ex.Message}")]);
            }
            catch (Exception ex)
            {
                // Reload runs on timer threads, where an escaping exception ends the process: whatever went wrong,
                // the app goes on with the last good configuration and the next change is tried again.
                runtime.ReportProviderFailure(_path, ex);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Cannot watch {Path} for changes ({Reason}); polling it instead")]
        public static partial void WatchUnavailable(ILogger logger, string path, string reason);
    }
}
