using Edge.Agent.Tests.Infrastructure;
using Edge.Contracts.Topics;
using Edge.Testing.Agent;
using Edge.Testing.Mqtt;
using MQTTnet;

namespace Edge.Agent.Tests.Reports;

/// <summary>Reports are never shed, so one ECG recorder may fill only its share of the journal quota with them.</summary>
public sealed class ReportShareTests
{
    private const string Ecg = "ECG-7711-0045";
    private const string Oxy = "OXY-8844-5521";

    [Fact]
    public async Task A_recorder_filling_its_share_with_reports_is_refused_while_other_devices_urgent_readings_are_accepted()
    {
        // 4 MiB quota, a quarter of it per recorder; no uplink, so nothing leaves the journal.
        await using var agent = await InProcessAgent.StartAsync("--Agent:Journal:QuotaBytes=4194304", "--Agent:Reports:MaxJournalSharePercent=25",
            "--Agent:Reports:MaxPdfPublishBytes=65536");
        await using var ecg = await TestDevice.ConnectAsync(agent.Port, Ecg, await agent.Admin.AddDeviceAsync(Ecg));
        await using var oxy = await TestDevice.ConnectAsync(agent.Port, Oxy, await agent.Admin.AddDeviceAsync(Oxy));

        // Parts of one large report, until the agent says the quota is exceeded (at most the whole quota's worth).
        var committed = 0;
        MqttClientPublishResult result;
        for (var part = 1; ; part++)
        {
            result = await ecg.PublishAsync(DeviceTopics.ReportPdfPart(Ecg, "rpt_big", part, 9999), Pdf(60_000, part));
            if (!result.IsSuccess || part == 80)
            {
                break;
            }
            committed++;
        }

        Assert.Equal(MqttClientPublishReasonCode.QuotaExceeded, result.ReasonCode);
        Assert.Contains("Agent:Reports:MaxJournalSharePercent", result.ReasonString, StringComparison.Ordinal);
        Assert.True(agent.Journal.Snapshot.ReportBytes <= 4_194_304 / 4, $"{agent.Journal.Snapshot.ReportBytes} report bytes after {committed} parts");
        Assert.Empty(agent.Journal.ListDeadLetters(10));

        // Another device's urgent readings still have the rest of the quota.
        for (var i = 0; i < 20; i++)
        {
            var urgent = await oxy.PublishAsync($"devices/{Oxy}/telemetry", Seed.Oxygen(Oxy, Seed.Start.AddSeconds(i), alarm: "LOW_PURITY"));
            Assert.True(urgent.IsSuccess, urgent.ReasonString);
        }
    }

    private static byte[] Pdf(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        "%PDF-1.7\n"u8.CopyTo(bytes);
        return bytes;
    }
}
