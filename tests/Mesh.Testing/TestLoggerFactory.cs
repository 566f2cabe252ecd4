using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Mesh.Testing;

/// <summary>
/// Keeps every log line, and can make the next matching log call throw: a stand-in for any unexpected exception deep
/// inside a provider's loop (a logger is called on every path, so it reaches places no input can).
/// </summary>
public sealed class TestLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<string> _lines = new();
    private Func<string, bool>? _throwOnce;

    /// <summary>The formatted lines logged so far, as <c>Level Category: message</c>.</summary>
    public IReadOnlyList<string> Lines => [.. _lines];

    /// <summary>The next log line whose formatted text satisfies <paramref name="match"/> throws instead.</summary>
    public void ThrowOnce(Func<string, bool> match) => Volatile.Write(ref _throwOnce, match);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class Logger(TestLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{logLevel} {category}: {formatter(state, exception)}";
            if (Volatile.Read(ref factory._throwOnce) is { } match && match(line) && Interlocked.Exchange(ref factory._throwOnce, null) is not null)
            {
                throw new InvalidOperationException($"thrown on purpose while logging '{line}'");
            }

            factory._lines.Enqueue(line);
        }
    }
}
