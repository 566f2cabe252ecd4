using System.Diagnostics.Metrics;

namespace Mesh.Testing;

/// <summary>The running total of one <c>long</c> counter of one meter (e.g. <c>mesh.extension.failures</c> of a runtime).</summary>
public sealed class CounterTotal : IDisposable
{
    private readonly MeterListener _listener;
    private long _total;

    public CounterTotal(Meter meter, string name)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == name && ReferenceEquals(instrument.Meter, meter))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.Start();
    }

    /// <summary>The sum of the measurements so far.</summary>
    public long Value => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();
}
