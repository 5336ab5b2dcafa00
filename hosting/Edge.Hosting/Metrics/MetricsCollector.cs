using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Hosting;

namespace Edge.Hosting.Metrics;

/// <summary>
/// Keeps running totals of one process's System.Diagnostics.Metrics instruments and the runtime's (GC, CPU, thread
/// pool), and renders them in the Prometheus text format: the agent serves it as <c>GET /v1/metrics</c> on its admin
/// socket, the cloud worker and API on their metrics listener. Counters and histograms are cumulative since the
/// process started, as Prometheus expects; gauges are read when rendered.
/// </summary>
/// <remarks>
/// Only the meters passed in are listened to, plus those created by the host's own <see cref="IMeterFactory"/> when
/// one is given (ASP.NET Core's request and connection meters) and the process-wide <c>System.Runtime</c>; never every
/// meter by name: tests run several agents or APIs in one process, and each must report its own counts.
/// </remarks>
public sealed class MetricsCollector : IHostedService, IDisposable
{
    /// <summary>The runtime's own meter (.NET 9 and later): GC, CPU time, working set, thread pool, exceptions.</summary>
    public const string RuntimeMeterName = "System.Runtime";

    /// <summary>The media type Prometheus expects from a text-format scrape.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly HashSet<Meter> _meters;
    private readonly IMeterFactory? _meterFactory;
    private readonly MeterListener _listener = new();
    private readonly Lock _instrumentsGate = new();
    private readonly List<InstrumentSeries> _instruments = [];
    private readonly Lock _renderGate = new();

    /// <param name="meters">The process's own meters.</param>
    /// <param name="meterFactory">The host's meter factory: every meter it creates is listened to as well (a meter's
    /// <see cref="Meter.Scope"/> is the factory that made it).</param>
    public MetricsCollector(IEnumerable<Meter> meters, IMeterFactory? meterFactory = null)
    {
        _meters = [.. meters];
        _meterFactory = meterFactory;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meters.Contains(instrument.Meter) || (_meterFactory is not null && ReferenceEquals(instrument.Meter.Scope, _meterFactory)) ||
                instrument.Meter.Name == RuntimeMeterName)
            {
                var series = new InstrumentSeries(instrument);
                lock (_instrumentsGate)
                {
                    _instruments.Add(series);
                }

                listener.EnableMeasurementEvents(instrument, series);
            }
        };
        _listener.MeasurementsCompleted = (_, state) =>
        {
            lock (_instrumentsGate)
            {
                _instruments.Remove((InstrumentSeries)state!);
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>Every instrument's current series in the Prometheus text exposition format (version 0.0.4).</summary>
    public string Render()
    {
        lock (_renderGate)
        {
            InstrumentSeries[] instruments;
            lock (_instrumentsGate)
            {
                instruments = [.. _instruments];
            }

            // Observable instruments report what they see now; a series they no longer report (a lane that emptied
            // has no oldest age) must go, so they start from nothing at every scrape.
            foreach (var instrument in instruments.Where(i => i.IsObservable))
            {
                instrument.Clear();
            }

            try
            {
                _listener.RecordObservableInstruments();
            }
            catch (AggregateException)
            {
                // A gauge whose callback failed (its component is closing) is left out of this scrape; the rest is
                // still worth having.
            }

            var text = new StringBuilder();
            foreach (var family in instruments.GroupBy(i => i.MetricName, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var first = family.First();
                text.Append("# HELP ").Append(family.Key).Append(' ').Append(PrometheusText.EscapeHelp(first.Help)).Append('\n');
                text.Append("# TYPE ").Append(family.Key).Append(' ').Append(first.TypeName).Append('\n');
                foreach (var instrument in family)
                {
                    instrument.WriteSamples(text);
                }
            }

            return text.ToString();
        }
    }

    // A hosted service only so that the host builds it at start, before the first measurement; the listener runs from
    // the constructor.
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _listener.Dispose();

    /// <summary>One instrument and its series, one per distinct set of tags.</summary>
    private sealed class InstrumentSeries
    {
        private static readonly double[] DefaultBuckets = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

        private readonly Lock _gate = new();
        private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly Kind _kind;
        private readonly double[] _buckets;
        private readonly bool _adds; // Add() of a counter or up-down counter, against a gauge's or observable's value
        private Series? _untagged; // the common case, found without building a key
        // One tag with a text value (lane, kind, reason: what the hot paths record per reading), found without building
        // the label text; Labels sorts, escapes and allocates, which cost more than the measurement itself.
        private readonly Dictionary<(string Key, string Value), Series> _byOneTag = [];

        public InstrumentSeries(Instrument instrument)
        {
            _kind = instrument switch
            {
                _ when IsGeneric(instrument, typeof(Counter<>)) || IsGeneric(instrument, typeof(ObservableCounter<>)) => Kind.Counter,
                _ when IsGeneric(instrument, typeof(Histogram<>)) => Kind.Histogram,
                _ => Kind.Gauge, // gauges and up-down counters: a value that goes both ways
            };
            IsObservable = instrument.IsObservable;
            _adds = IsGeneric(instrument, typeof(Counter<>)) || IsGeneric(instrument, typeof(UpDownCounter<>));
            _buckets = _kind == Kind.Histogram ? BucketsOf(instrument) ?? DefaultBuckets : [];
            MetricName = PrometheusText.MetricName(instrument.Name, instrument.Unit, _kind == Kind.Counter);
            Help = instrument.Description ?? instrument.Name;
        }

        private enum Kind
        {
            Counter,
            Gauge,
            Histogram,
        }

        public bool IsObservable { get; }

        public string MetricName { get; }

        public string Help { get; }

        public string TypeName => _kind switch
        {
            Kind.Counter => "counter",
            Kind.Histogram => "histogram",
            _ => "gauge",
        };

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            lock (_gate)
            {
                var series = tags.IsEmpty ? _untagged ??= new Series(string.Empty, _buckets.Length) : Find(tags);
                if (_kind == Kind.Histogram)
                {
                    var bucket = Array.BinarySearch(_buckets, value);
                    series.BucketCounts[bucket >= 0 ? bucket : ~bucket]++;
                    series.Count++;
                    series.Sum += value;
                }
                else if (_adds)
                {
                    series.Sum += value;
                }
                else
                {
                    // Observable instruments report their running total or current value, and so does a Gauge<T>.
                    series.Sum = value;
                }
            }
        }

        public void Clear()
        {
            lock (_gate)
            {
                _series.Clear();
                _byOneTag.Clear();
                _untagged = null;
            }
        }

        public void WriteSamples(StringBuilder text)
        {
            lock (_gate)
            {
                var all = _series.Values.ToList();
                if (_untagged is not null)
                {
                    all.Add(_untagged);
                }
                else if (all.Count == 0 && !IsObservable && _kind != Kind.Gauge)
                {
                    // Nothing counted yet: a zero lets rate() and increase() start from the agent's start.
                    all.Add(new Series(string.Empty, _buckets.Length));
                }

                foreach (var series in all.OrderBy(s => s.Labels, StringComparer.Ordinal))
                {
                    if (_kind == Kind.Histogram)
                    {
                        long cumulative = 0;
                        for (var i = 0; i < _buckets.Length; i++)
                        {
                            cumulative += series.BucketCounts[i];
                            Sample(text, "_bucket", series.Labels, $"le=\"{PrometheusText.Number(_buckets[i])}\"", cumulative);
                        }

                        Sample(text, "_bucket", series.Labels, "le=\"+Inf\"", series.Count);
                        Sample(text, "_sum", series.Labels, null, series.Sum);
                        Sample(text, "_count", series.Labels, null, series.Count);
                    }
                    else
                    {
                        Sample(text, string.Empty, series.Labels, null, series.Sum);
                    }
                }
            }
        }

        private void Sample(StringBuilder text, string suffix, string labels, string? extraLabel, double value)
        {
            text.Append(MetricName).Append(suffix);
            if (labels.Length > 0 || extraLabel is not null)
            {
                text.Append('{').Append(labels);
                if (extraLabel is not null)
                {
                    text.Append(labels.Length > 0 ? "," : string.Empty).Append(extraLabel);
                }

                text.Append('}');
            }

            text.Append(' ').Append(PrometheusText.Number(value)).Append('\n');
        }

        private Series Find(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 1 && tags[0].Value is string value)
            {
                var key = (tags[0].Key, value);
                if (!_byOneTag.TryGetValue(key, out var known))
                {
                    known = FindByLabels(tags);
                    _byOneTag.Add(key, known);
                }

                return known;
            }

            return FindByLabels(tags);
        }

        private Series FindByLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = PrometheusText.Labels(tags);
            if (!_series.TryGetValue(labels, out var series))
            {
                series = new Series(labels, _buckets.Length);
                _series.Add(labels, series);
            }

            return series;
        }

        private static bool IsGeneric(Instrument instrument, Type definition) =>
            instrument.GetType().IsGenericType && instrument.GetType().GetGenericTypeDefinition() == definition;

        // The bucket boundaries the instrument advises (InstrumentAdvice), whatever its number type.
        private static double[]? BucketsOf(Instrument instrument) => instrument switch
        {
            Histogram<double> h => h.Advice?.HistogramBucketBoundaries?.ToArray(),
            Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b).ToArray(),
            _ => null,
        };
    }

    /// <summary>
    /// One series: the total (or current value), and for a histogram its per-bucket counts, with one more slot for
    /// values above the last boundary (counted only in +Inf, which is the total count).
    /// </summary>
    private sealed class Series(string labels, int buckets)
    {
        public string Labels { get; } = labels;

        public double Sum { get; set; }

        public long Count { get; set; }

        public long[] BucketCounts { get; } = new long[buckets + 1];
    }
}
