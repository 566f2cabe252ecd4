using Microsoft.Extensions.Logging;

namespace Mesh.Runtime;

public sealed partial class MeshRuntime
{
    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Mesh configuration version {Version} from {Source} is in force ({ServiceCount} services)")]
        public static partial void Applied(ILogger logger, long version, string source, int serviceCount);

        [LoggerMessage(2, LogLevel.Error, "Mesh configuration from {Source} rejected at {Path}: {Reason}; version {Version} stays in force")]
        public static partial void Rejected(ILogger logger, string source, string path, string reason, long version);

        [LoggerMessage(3, LogLevel.Error, "Mesh extension {Extension} failed and was skipped; the app goes on")]
        public static partial void ExtensionFailed(ILogger logger, string extension, Exception exception);

        [LoggerMessage(4, LogLevel.Error, "Mesh configuration source {Source} failed; the last good configuration stays in force and the source goes on")]
        public static partial void ProviderFailed(ILogger logger, string source, Exception exception);

        [LoggerMessage(5, LogLevel.Error, "Mesh configuration source {Source} failed to start; the mesh goes on without it")]
        public static partial void ProviderStartFailed(ILogger logger, string source, Exception exception);
    }
}
