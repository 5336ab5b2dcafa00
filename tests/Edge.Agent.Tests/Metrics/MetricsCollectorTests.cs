using System.Diagnostics.Metrics;
using Edge.Hosting.Metrics;

namespace Edge.Agent.Tests.Metrics;

/// <summary>
/// The Prometheus text the agent serves on <c>GET /v1/metrics</c>: what a scraper parses. Each test owns its meters,
/// so tests running in parallel (and the agents other tests start in this process) do not show up in its output.
/// </summary>
public sealed class MetricsCollectorTests : IDisposable
{
    private readonly Meter _meter = new("ClinicEdge.Test." + Guid.NewGuid().ToString("N"));

    public void Dispose() => _meter.Dispose();

    [Fact]
    public void A_counter_is_a_running_total_per_set_of_tags_with_help_and_type()
    {
        var counter = _meter.CreateCounter<long>("edge.test.refused", description: "Messages refused, by reason code");
        using var collector = new MetricsCollector([_meter]);

        counter.Add(1, new KeyValuePair<string, object?>("reason", "PayloadFormatInvalid"));
        counter.Add(2, new KeyValuePair<string, object?>("reason", "PayloadFormatInvalid"));
        counter.Add(1, new KeyValuePair<string, object?>("reason", "NotAuthorized"));

        var lines = Lines(collector.Render());
        Assert.Equal(
            [
                "# HELP edge_test_refused_total Messages refused, by reason code",
                "# TYPE edge_test_refused_total counter",
                "edge_test_refused_total{reason=\"NotAuthorized\"} 1",
                "edge_test_refused_total{reason=\"PayloadFormatInvalid\"} 3",
            ],
            lines.Where(l => l.Contains("edge_test_refused", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_counter_nothing_was_counted_on_yet_reads_zero()
    {
        _meter.CreateCounter<long>("edge.test.accepted");
        using var collector = new MetricsCollector([_meter]);

        Assert.Contains("edge_test_accepted_total 0", Lines(collector.Render()));
    }

    [Fact]
    public void A_histogram_has_cumulative_buckets_from_its_advice_and_a_sum_and_count()
    {
        var histogram = _meter.CreateHistogram("edge.test.latency", unit: "ms", description: "Wait",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 10] });
        using var collector = new MetricsCollector([_meter]);

        foreach (var value in new[] { 0.5, 1, 4, 10, 12.5 })
        {
            histogram.Record(value);
        }

        // A value on a boundary counts in that bucket (le is "less than or equal"); 12.5 is only in +Inf.
        Assert.Equal(
            [
                "# HELP edge_test_latency_milliseconds Wait",
                "# TYPE edge_test_latency_milliseconds histogram",
                "edge_test_latency_milliseconds_bucket{le=\"1\"} 2",
                "edge_test_latency_milliseconds_bucket{le=\"5\"} 3",
                "edge_test_latency_milliseconds_bucket{le=\"10\"} 4",
                "edge_test_latency_milliseconds_bucket{le=\"+Inf\"} 5",
                "edge_test_latency_milliseconds_sum 28",
                "edge_test_latency_milliseconds_count 5",
            ],
            Lines(collector.Render()).Where(l => l.Contains("edge_test_latency", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_tagged_histogram_keeps_the_tags_before_le()
    {
        var histogram = _meter.CreateHistogram("edge.test.size", unit: "{operation}",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2] });
        using var collector = new MetricsCollector([_meter]);

        histogram.Record(2, new KeyValuePair<string, object?>("lane", "urgent"));

        var lines = Lines(collector.Render());
        Assert.Contains("edge_test_size_bucket{lane=\"urgent\",le=\"2\"} 1", lines);
        Assert.Contains("edge_test_size_count{lane=\"urgent\"} 1", lines);
    }

    [Fact]
    public void Gauges_are_read_at_each_render_and_a_series_no_longer_reported_is_gone()
    {
        var lanes = new Dictionary<string, double> { ["routine"] = 12.5, ["urgent"] = 3 };
        _meter.CreateObservableGauge("edge.test.oldest_age", () => lanes.Select(l => new Measurement<double>(l.Value, new KeyValuePair<string, object?>("lane", l.Key))), unit: "s");
        using var collector = new MetricsCollector([_meter]);

        var first = Lines(collector.Render());
        lanes.Remove("urgent");
        lanes["routine"] = 14;
        var second = Lines(collector.Render());

        Assert.Contains("# TYPE edge_test_oldest_age_seconds gauge", first);
        Assert.Contains("edge_test_oldest_age_seconds{lane=\"routine\"} 12.5", first);
        Assert.Contains("edge_test_oldest_age_seconds{lane=\"urgent\"} 3", first);
        Assert.Contains("edge_test_oldest_age_seconds{lane=\"routine\"} 14", second);
        Assert.DoesNotContain(second, l => l.Contains("lane=\"urgent\"", StringComparison.Ordinal));
    }

    [Fact]
    public void An_observable_counter_reports_its_own_total_and_an_up_down_counter_is_a_gauge()
    {
        long acked = 41;
        _meter.CreateObservableCounter("edge.test.acked_readings", () => acked);
        var connected = _meter.CreateUpDownCounter<int>("edge.test.connected");
        using var collector = new MetricsCollector([_meter]);

        acked = 42;
        connected.Add(3);
        connected.Add(-1);
        var lines = Lines(collector.Render());

        Assert.Contains("# TYPE edge_test_acked_readings_total counter", lines);
        Assert.Contains("edge_test_acked_readings_total 42", lines);
        Assert.Contains("# TYPE edge_test_connected gauge", lines);
        Assert.Contains("edge_test_connected 2", lines);
    }

    [Fact]
    public void Only_the_meters_given_are_exported_even_with_the_same_instrument_names()
    {
        using var otherAgent = new Meter(_meter.Name);
        var mine = _meter.CreateCounter<long>("edge.test.accepted");
        var theirs = otherAgent.CreateCounter<long>("edge.test.accepted");
        using var collector = new MetricsCollector([_meter]);

        mine.Add(1);
        theirs.Add(100);

        Assert.Contains("edge_test_accepted_total 1", Lines(collector.Render()));
    }

    [Fact]
    public void Label_values_and_help_are_escaped_and_names_are_made_valid()
    {
        var counter = _meter.CreateCounter<long>("edge.test-weird name", description: "a \\ and a\nnewline");
        using var collector = new MetricsCollector([_meter]);

        counter.Add(1, new KeyValuePair<string, object?>("client.id", "dev \"7\"\\x\ny"));

        var lines = Lines(collector.Render());
        Assert.Contains("# HELP edge_test_weird_name_total a \\\\ and a\\nnewline", lines);
        Assert.Contains("edge_test_weird_name_total{client_id=\"dev \\\"7\\\"\\\\x\\ny\"} 1", lines);
    }

    [Fact]
    public void The_runtime_meter_is_included_for_gc_and_cpu()
    {
        using var collector = new MetricsCollector([_meter]);

        var lines = Lines(collector.Render());

        Assert.Contains(lines, l => l.StartsWith("dotnet_process_cpu_time_seconds_total{cpu_mode=\"user\"} ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("dotnet_gc_collections_total{gc_heap_generation=\"gen0\"} ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_gauge_whose_callback_throws_is_left_out_and_the_rest_still_renders()
    {
        _meter.CreateObservableGauge<long>("edge.test.broken", (Func<long>)(() => throw new ObjectDisposedException("journal")));
        _meter.CreateObservableGauge("edge.test.fine", () => 7L);
        using var collector = new MetricsCollector([_meter]);

        var lines = Lines(collector.Render());

        Assert.Contains("edge_test_fine 7", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("edge_test_broken ", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_sample_line_parses_as_name_labels_and_a_number()
    {
        var histogram = _meter.CreateHistogram<double>("edge.test.sync_duration", unit: "ms");
        _meter.CreateObservableGauge("edge.test.ratio", () => double.NaN);
        using var collector = new MetricsCollector([_meter]);
        histogram.Record(0.3);

        foreach (var line in Lines(collector.Render()).Where(l => !l.StartsWith('#')))
        {
            Assert.Matches(@"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*=""([^""\\]|\\.)*""(,[a-zA-Z_][a-zA-Z0-9_]*=""([^""\\]|\\.)*"")*\})? (NaN|[+-]Inf|-?[0-9.]+(E[+-]?[0-9]+)?)$", line);
        }
    }

    private static string[] Lines(string text)
    {
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
