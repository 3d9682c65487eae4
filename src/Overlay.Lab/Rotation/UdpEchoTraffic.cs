using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Overlay.Lab.Rotation;

/// <summary>What a traffic run counted: every request carries a sequence number, a reply counts it as delivered both ways.</summary>
public sealed record TrafficResult(int Sent, int Answered, IReadOnlyList<TimeSpan> LostAt, TimeSpan Duration)
{
    public int Lost => Sent - Answered;
    public override string ToString() => $"{Sent} sent, {Answered} answered, {Lost} lost over {Duration.TotalSeconds:0.0} s";
}

/// <summary>
/// A UDP echo between two lab nodes at a fixed rate (like 'ping -i 0.01', but with sequence numbers the test reads
/// itself): the echo server runs on one node, the sender/counter on another; both sockets are opened inside their
/// namespaces. Stop waits for late replies (bounded), then reports which sequence numbers never came back and when
/// they were sent.
/// </summary>
public sealed class UdpEchoTraffic : IAsyncDisposable
{
    private readonly Socket _server;
    private readonly Socket _client;
    private readonly IPEndPoint _target;
    private readonly TimeSpan _interval;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _stopSending = new();
    private readonly HashSet<int> _answered = [];
    private readonly Stopwatch _clock = new();
    private int _sent;
    private Task _echo = Task.CompletedTask, _send = Task.CompletedTask, _receive = Task.CompletedTask;

    private UdpEchoTraffic(Socket server, Socket client, IPEndPoint target, TimeSpan interval)
    {
        _server = server; _client = client; _target = target; _interval = interval;
    }

    /// <summary>Starts echoing on <paramref name="serverAddress"/>:<paramref name="port"/> in <paramref name="server"/> and sending from <paramref name="client"/>.</summary>
    public static UdpEchoTraffic Start(RunningLab lab, LabNode client, IPAddress clientAddress, LabNode server, IPAddress serverAddress, int port,
        int packetsPerSecond = 100)
    {
        var s = lab.CreateSocket(server, AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var c = lab.CreateSocket(client, AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(serverAddress, port));
        c.Bind(new IPEndPoint(clientAddress, 0));
        var t = new UdpEchoTraffic(s, c, new IPEndPoint(serverAddress, port), TimeSpan.FromSeconds(1.0 / packetsPerSecond));
        t._echo = Task.Run(t.EchoAsync);
        t._receive = Task.Run(t.ReceiveAsync);
        t._clock.Start();
        t._send = Task.Run(t.SendAsync);
        return t;
    }

    public int Sent => Volatile.Read(ref _sent);

    public int Answered { get { lock (_answered) return _answered.Count; } }

    /// <summary>Whether every request numbered <paramref name="from"/> up to (not including) <paramref name="to"/> was sent and answered.</summary>
    public bool AllAnswered(int from, int to)
    {
        if (Sent < to) return false;
        lock (_answered) return Enumerable.Range(from, to - from).All(_answered.Contains);
    }

    /// <summary>How many requests numbered <paramref name="from"/> up to (not including) <paramref name="to"/> have no answer (yet).</summary>
    public int Missing(int from, int to)
    {
        lock (_answered) return Enumerable.Range(from, Math.Max(0, to - from)).Count(i => !_answered.Contains(i));
    }

    private async Task EchoAsync()
    {
        var buffer = new byte[64];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var r = await _server.ReceiveFromAsync(buffer, SocketFlags.None, from, _stop.Token).ConfigureAwait(false);
                await _server.SendToAsync(buffer.AsMemory(0, r.ReceivedBytes), SocketFlags.None, r.RemoteEndPoint, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            catch (SocketException) { }   // e.g. no route back for a moment: that packet is lost, which is what we count
        }
    }

    private async Task SendAsync()
    {
        var buffer = new byte[4];
        for (int seq = 0; !_stopSending.IsCancellationRequested; seq++)
        {
            // Scheduled against the start, not the previous send: a late timer catches up instead of lowering the rate.
            var due = _interval * seq - _clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                try { await Task.Delay(due, _stopSending.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
            BinaryPrimitives.WriteInt32BigEndian(buffer, seq);
            try { await _client.SendToAsync(buffer, SocketFlags.None, _target).ConfigureAwait(false); }
            catch (SocketException) { }   // no route: counted as lost
            Volatile.Write(ref _sent, seq + 1);
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64];
        while (true)
        {
            try
            {
                int n = await _client.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (n >= 4) lock (_answered) _answered.Add(BinaryPrimitives.ReadInt32BigEndian(buffer));
            }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) when (_client.SafeHandle.IsClosed) { return; }
            catch (SocketException) { }
        }
    }

    /// <summary>Stops sending, waits up to <paramref name="lateReplies"/> for replies still in flight, and counts.</summary>
    public async Task<TrafficResult> StopAsync(TimeSpan? lateReplies = null)
    {
        // Only the sender stops here; the echo keeps answering while late replies arrive.
        _stopSending.Cancel();
        await _send.ConfigureAwait(false);
        var duration = _clock.Elapsed;
        int sent = Sent;
        try
        {
            await Poll.UntilAsync("late echo replies", () => Answered >= sent, lateReplies ?? TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException) { }   // what has not come back by now is lost
        List<TimeSpan> lost;
        lock (_answered) lost = [.. Enumerable.Range(0, sent).Where(s => !_answered.Contains(s)).Select(s => _interval * s)];
        await DisposeAsync().ConfigureAwait(false);
        return new TrafficResult(sent, sent - lost.Count, lost, duration);
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopSending.Cancel();
        _stop.Cancel();
        _client.Dispose();
        _server.Dispose();
        try { await Task.WhenAll(_echo, _send, _receive).ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { }
        _stop.Dispose();
        _stopSending.Dispose();
    }
}
