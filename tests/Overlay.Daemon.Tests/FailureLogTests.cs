using Microsoft.Extensions.Logging;
using Overlay.Core.Tests;
using Overlay.Daemon.Logging;
using Grpc.Core;
using Overlay.Frr.Grpc;

namespace Overlay.Daemon.Tests;

/// <summary>Issue #13, item 11: one line per cause and recovery, repeats counted and rate-limited, stacks only for bugs.</summary>
public class FailureLogTests
{
    private sealed class ListLogger : ILogger
    {
        public readonly List<(LogLevel Level, EventId Id, string Message, Exception? Exception)> Lines = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, eventId, formatter(state, exception), exception));
    }

    private static readonly Exception FrrDown = new FrrNorthboundException(StatusCode.Unavailable, "connection refused", "Get", "staticd (127.0.0.1:50052)",
        new System.Net.Sockets.SocketException(111));

    [Fact]
    public void Suppressor_says_the_first_failure_then_one_summary_per_interval_then_the_recovery()
    {
        var clock = new FakeTimeProvider();
        var s = new RepeatSuppressor(clock, TimeSpan.FromMinutes(1));
        Assert.Equal(RepeatKind.First, s.Failure("read FRR", "refused").Kind);
        for (int i = 1; i < 60; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(RepeatKind.Suppressed, s.Failure("read FRR", "refused").Kind);
        }
        clock.Advance(TimeSpan.FromSeconds(1));
        var summary = s.Failure("read FRR", "refused");
        Assert.Equal(RepeatKind.Summary, summary.Kind);
        Assert.Equal(60, summary.Repeats);
        Assert.Equal(TimeSpan.FromMinutes(1), summary.Period);
        Assert.Equal(RepeatKind.First, s.Failure("read FRR", "timeout").Kind); // a new cause is said at once
        Assert.Equal(RepeatKind.First, s.Failure("read BFD", "refused").Kind); // subjects are independent
        clock.Advance(TimeSpan.FromSeconds(10));
        var recovery = s.Success("read FRR");
        Assert.Equal(new Recovery(62, TimeSpan.FromSeconds(70)), recovery);
        Assert.Null(s.Success("read FRR"));
        Assert.Equal(RepeatKind.First, s.Failure("read FRR", "refused").Kind); // a new outage
    }

    [Fact]
    public void An_hour_of_FRR_down_is_a_handful_of_lines_without_stack_traces()
    {
        var clock = new FakeTimeProvider();
        var logger = new ListLogger();
        var log = new FailureLog(logger, clock);
        for (int i = 0; i < 36_000; i++) // every 100 ms for an hour
        {
            log.Failed("reading FRR VIP routes", FrrDown);
            clock.Advance(TimeSpan.FromMilliseconds(100));
        }
        log.Succeeded("reading FRR VIP routes");

        Assert.All(logger.Lines, l => Assert.Null(l.Exception));
        Assert.Equal(EventIds.OperationFailing, logger.Lines[0].Id.Id);
        Assert.Contains("reading FRR VIP routes failed: FRR northbound Get on staticd (127.0.0.1:50052) failed: Unavailable: connection refused", logger.Lines[0].Message);
        Assert.Equal(59, logger.Lines.Count(l => l.Id.Id == EventIds.OperationStillFailing));
        Assert.Contains("600 more failure(s) in the last 60 s", logger.Lines[1].Message);
        Assert.Equal(EventIds.OperationRecovered, logger.Lines[^1].Id.Id);
        Assert.Contains("recovered after 36000 failure(s) over 3600", logger.Lines[^1].Message);
        Assert.Equal(61, logger.Lines.Count);
    }

    [Fact]
    public void An_unexpected_exception_keeps_its_stack_trace_once()
    {
        var logger = new ListLogger();
        var log = new FailureLog(logger, new FakeTimeProvider());
        Exception bug;
        try { throw new NullReferenceException("a bug"); } catch (NullReferenceException e) { bug = e; }
        for (int i = 0; i < 100; i++) log.Failed("reading BFD sessions", bug);
        var line = Assert.Single(logger.Lines);
        Assert.Equal(EventIds.OperationFailedUnexpectedly, line.Id.Id);
        Assert.Same(bug, line.Exception);
        Assert.Equal(LogLevel.Error, line.Level);
    }
}
