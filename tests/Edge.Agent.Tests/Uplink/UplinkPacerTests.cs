using Edge.Agent.Uplink;
using Microsoft.Extensions.Time.Testing;

namespace Edge.Agent.Tests.Uplink;

/// <summary>
/// Every publish of the uplink (telemetry batches, events, report records) shares one budget per second. Measured on a
/// fake clock: in no window of one second do the publishes exceed the message or byte budget, whatever the mix.
/// </summary>
public sealed class UplinkPacerTests
{
    private const int Publishes = 80;
    private const int Bytes = 400 * 1024;

    [Fact]
    public void No_second_exceeds_the_budget_with_batches_events_and_report_records_competing()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
        var pacer = new UplinkPacer(Publishes, Bytes, time);

        // Everything the agent sends, all wanting to go at once: full urgent and routine batches, a stream of small
        // event batches and report records. Each sender asks once a millisecond, in turn.
        var senders = new (string Kind, int Size, UplinkPriority Priority)[]
        {
            ("urgent batch", 124 * 1024, UplinkPriority.Urgent),
            ("routine batch", 124 * 1024, UplinkPriority.Normal),
            ("routine batch", 3_000, UplinkPriority.Normal),
            ("events", 1_200, UplinkPriority.Normal),
            ("events", 90, UplinkPriority.Normal),
            ("report record", 20_000, UplinkPriority.Normal),
        };
        var sent = new List<(TimeSpan At, int Bytes, string Kind)>();
        var start = time.GetTimestamp();
        for (var step = 0; step < 10_000; step++)
        {
            foreach (var (kind, size, priority) in senders)
            {
                if (pacer.TryTake(size, priority, out _))
                {
                    sent.Add((time.GetElapsedTime(start), size, kind));
                }
            }

            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        for (var i = 0; i < sent.Count; i++)
        {
            var window = sent.Skip(i).TakeWhile(s => s.At - sent[i].At < TimeSpan.FromSeconds(1)).ToList();
            Assert.True(window.Count <= Publishes, $"{window.Count} publishes in the second from {sent[i].At}");
            Assert.True(window.Sum(s => s.Bytes) <= Bytes, $"{window.Sum(s => s.Bytes)} bytes in the second from {sent[i].At}");
        }

        // And the budget is used, not wasted: over 10 s the bytes sent come close to 10 seconds' worth.
        Assert.True(sent.Sum(s => (long)s.Bytes) > 9L * Bytes, $"{sent.Sum(s => (long)s.Bytes)} bytes in 10 s");
        Assert.Contains(sent, s => s.Kind == "events");
        Assert.Contains(sent, s => s.Kind == "report record");
    }

    [Fact]
    public async Task An_urgent_publish_waiting_for_room_goes_before_a_routine_one_that_waited_longer()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
        var pacer = new UplinkPacer(publishesPerSecond: 1, bytesPerSecond: 1_000_000, time);
        Assert.True(pacer.TryTake(100, UplinkPriority.Normal, out _));

        var routine = pacer.TakeAsync(100, UplinkPriority.Normal, CancellationToken.None);
        var urgent = pacer.TakeAsync(100, UplinkPriority.Urgent, CancellationToken.None);
        Assert.False(routine.IsCompleted);
        Assert.False(urgent.IsCompleted);

        // One second later there is room for one publish: the urgent one takes it, the routine one waits a second more.
        time.Advance(TimeSpan.FromSeconds(1));
        await urgent.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(200);
        Assert.False(routine.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(1));
        await routine.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_heartbeat_waits_behind_every_other_publish_waiting_for_room()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
        var pacer = new UplinkPacer(publishesPerSecond: 1, bytesPerSecond: 1_000_000, time);
        Assert.True(pacer.TryTake(100, UplinkPriority.Normal, out _));

        var heartbeat = pacer.TakeAsync(100, UplinkPriority.Low, CancellationToken.None);
        var events = pacer.TakeAsync(100, UplinkPriority.Normal, CancellationToken.None);

        // One second later there is room for one publish: the events take it although the heartbeat waited longer.
        time.Advance(TimeSpan.FromSeconds(1));
        await events.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(200);
        Assert.False(heartbeat.IsCompleted);
        Assert.False(pacer.TryTake(100, UplinkPriority.Low, out _));

        time.Advance(TimeSpan.FromSeconds(1));
        await heartbeat.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_waiting_publish_stops_waiting_when_cancelled()
    {
        var time = new FakeTimeProvider();
        var pacer = new UplinkPacer(publishesPerSecond: 1, bytesPerSecond: 1_000_000, time);
        Assert.True(pacer.TryTake(100, UplinkPriority.Normal, out _));
        using var cancel = new CancellationTokenSource();

        var waiting = pacer.TakeAsync(100, UplinkPriority.Urgent, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(pacer.TryTake(100, UplinkPriority.Normal, out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
    }
}
