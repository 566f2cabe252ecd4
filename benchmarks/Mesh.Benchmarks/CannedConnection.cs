using System.Text;

namespace Mesh.Benchmarks;

/// <summary>
/// An HTTP/1.1 connection answered in place: every request written to it (a GET: its headers end the request) is
/// answered with "200 ok", ready to be read at once. No thread hop, no socket: what is measured is the client.
/// </summary>
internal sealed class CannedConnection : Stream
{
    private static readonly byte[] Response = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    private static readonly byte[] EndOfHeaders = "\r\n\r\n"u8.ToArray();
    private readonly Lock _gate = new();
    private int _matched;
    private int _owed;
    private int _offset;
    private TaskCompletionSource? _dataAvailable;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>A handler whose every connection is a new canned connection.</summary>
    public static SocketsHttpHandler CreateHandler() => new()
    {
        ConnectCallback = static (_, _) => ValueTask.FromResult<Stream>(new CannedConnection()),
    };

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_owed > 0)
                {
                    var count = Math.Min(buffer.Length, Response.Length - _offset);
                    Response.AsSpan(_offset, count).CopyTo(buffer.Span);
                    _offset += count;
                    if (_offset == Response.Length)
                    {
                        _offset = 0;
                        _owed--;
                    }

                    return count;
                }

                // Nothing owed: the pool's idle read (or a read ahead of the next request) waits for a request.
                _dataAvailable ??= new TaskCompletionSource();
                wait = _dataAvailable.Task;
            }

            await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        TaskCompletionSource? waiting = null;
        lock (_gate)
        {
            foreach (var b in buffer)
            {
                _matched = b == EndOfHeaders[_matched] ? _matched + 1 : b == EndOfHeaders[0] ? 1 : 0;
                if (_matched == EndOfHeaders.Length)
                {
                    _matched = 0;
                    _owed++;
                    (waiting, _dataAvailable) = (_dataAvailable, null);
                }
            }
        }

        waiting?.SetResult();
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
