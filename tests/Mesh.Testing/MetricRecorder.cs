using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Mesh.Testing;

/// <summary>
/// Records the measurements of one <see cref="Meter"/> instance, through the same listener API an OpenTelemetry SDK
/// uses. It keys on the instance, not the name: other tests run meshes in parallel whose meters are also named
/// <c>Mesh</c>.
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener;
    private readonly ConcurrentQueue<RecordedMeasurement> _measurements = new();
    private readonly ConcurrentQueue<Instrument> _instruments = new();

    /// <summary>Starts recording <paramref name="instruments"/> of <paramref name="meter"/>, or all of its instruments when none are named.</summary>
    public MetricRecorder(Meter meter, params string[] instruments)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && (instruments.Length == 0 || instruments.Contains(instrument.Name)))
                {
                    _instruments.Enqueue(instrument);
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>The instruments recorded: those the meter had at the start, and those created on it since.</summary>
    public Instrument[] Instruments => [.. _instruments];

    /// <summary>Every measurement recorded so far, in order.</summary>
    public RecordedMeasurement[] Measurements => [.. _measurements];

    /// <summary>The measurements of one instrument, in order.</summary>
    public RecordedMeasurement[] Of(string instrument) => Array.FindAll(Measurements, m => m.Instrument == instrument);

    /// <summary>The sum of the values of one instrument (a counter's total).</summary>
    public double Sum(string instrument) => Of(instrument).Sum(m => m.Value);

    /// <summary>Has every observable instrument (gauges) report its current value now.</summary>
    public void RecordObservableInstruments() => _listener.RecordObservableInstruments();

    /// <inheritdoc />
    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(tags.Length, StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        _measurements.Enqueue(new RecordedMeasurement(instrument.Name, value, copy));
    }
}

/// <summary>One measurement: the instrument's name, the value and a copy of its tags.</summary>
public sealed record RecordedMeasurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    /// <summary>A string tag's value, or null when the measurement does not carry it.</summary>
    public string? Tag(string name) => Tags.GetValueOrDefault(name) as string;
}
