using Microsoft.Extensions.Logging;

namespace Overlay.Lab;

/// <summary>An ILogger writing one line per message to a callback (test output, the demo's console).</summary>
public sealed class LineLogger(Action<string> writeLine, LogLevel minimum = LogLevel.Information) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string line = $"{DateTime.UtcNow:HH:mm:ss.fff} {Short(logLevel)} {formatter(state, exception)}";
        if (exception is not null) line += " | " + exception.Message;
        try { writeLine(line); }
        catch (InvalidOperationException) { } // xunit's output helper throws once its test has finished
    }

    private static string Short(LogLevel l) => l switch
    {
        LogLevel.Trace => "trce", LogLevel.Debug => "dbug", LogLevel.Information => "info",
        LogLevel.Warning => "warn", LogLevel.Error => "fail", _ => "crit",
    };
}
