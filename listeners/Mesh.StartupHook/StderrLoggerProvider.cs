using Microsoft.Extensions.Logging;

namespace Mesh.StartupHook;

/// <summary>
/// The hook's logger: one line per entry on stderr, so the mesh never mixes into an app's own output. Written here
/// rather than taken from Microsoft.Extensions.Logging.Console because that package (with the options and
/// configuration machinery it pulls in) added tens of milliseconds to every app start under the hook.
/// </summary>
internal sealed class StderrLoggerProvider(LogLevel minimum) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => new StderrLogger(categoryName, minimum);

    public void Dispose()
    {
    }

    private sealed class StderrLogger(string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var line = $"[mesh] {logLevel}: {category}: {formatter(state, exception)}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}";
            Console.Error.WriteLine(line);
        }
    }
}
