using Edge.Cli.Terminal;
using Edge.Contracts.Admin;

namespace Edge.Cli.Agent;

/// <summary>The human view of <see cref="AgentStatus"/>: one screen a technician reads top to bottom.</summary>
internal static class StatusView
{
    public static void Write(AgentStatus status, TextWriter output)
    {
        var journal = status.Journal;
        Line(output, "Gateway", $"{status.GatewayId} (edge-agent {status.Version})");
        Line(output, "Uptime", $"{DurationText.Age(TimeSpan.FromSeconds(status.UptimeSeconds))} (since {Units.Utc(status.StartedAt)})");
        Line(output, "Devices", $"{Units.Count(status.DevicesConnected)} connected");
        if (status.Broker is { } broker)
        {
            Line(output, "Listening", string.Join(", ", broker.Endpoints));
            Line(output, "Certificate", (broker.ManagedCertificate ? "the agent's own" : "configured") +
                $", valid until {Units.Utc(broker.ServerCertificateNotAfter)}" +
                (broker.DeviceCaFingerprint is { } fingerprint ? $"; device CA SHA-256 {fingerprint} (edgectl agent device-ca)" : ""));
            if (broker.Warning is { } warning)
            {
                Line(output, "WARNING", warning);
            }
        }
        Line(output, "Journal", $"{journal.Path} (epoch {journal.Epoch}, last sequence {Units.Count(journal.LastSequence)}{(journal.Encrypted ? ", encrypted" : ", not encrypted")})");
        Line(output, "Quota", Quota(journal));
        if (journal.Commits is { } commits)
        {
            var interval = commits.MinCommitIntervalMs > 0 ? $"; commit interval {commits.MinCommitIntervalMs} ms (alarms do not wait)" : "";
            interval += commits.WriteAheadLog ? $"; write-ahead log, full {Units.Count(commits.WriteAheadLogFull)} times" : "";
            Line(output, "Commits", (commits.Count == 0
                ? "none since start"
                : $"{Units.Count(commits.Count)} since start, {commits.OperationsPerCommit:0.0} writes each, fdatasync {commits.SyncMillisecondsPerCommit:0.00} ms on average") + interval);
        }

        output.WriteLine();
        output.WriteLine("Lanes");
        if (journal.Lanes.Count == 0)
        {
            output.WriteLine("  (none)");
        }
        else
        {
            var lanes = new TextTable("LANE", "ENTRIES", "BYTES", "OLDEST").RightAlign(1, 2);
            foreach (var lane in journal.Lanes)
            {
                lanes.Add(
                    lane.Lane,
                    Units.Count(lane.Entries),
                    Units.Bytes(lane.Bytes),
                    lane.OldestAgeSeconds is { } age ? DurationText.Age(TimeSpan.FromSeconds(age)) : "-");
            }

            lanes.Write(output, indent: "  ");
        }

        output.WriteLine();
        Line(output, "Shed", ByReason(journal.ShedByReason, "none"));
        var ingest = status.Ingest;
        Line(
            output,
            "Ingest",
            $"{Units.Count(ingest.Accepted)} accepted, {Units.Count(ingest.Duplicates)} duplicates, {Units.Count(ingest.Refused)} refused" +
            (ingest.RefusedByReason.Count > 0 ? $" ({ByReason(ingest.RefusedByReason, "")})" : ""));
        Line(output, "Dead letters", status.DeadLetters == 0 ? "0" : $"{Units.Count(status.DeadLetters)} (edgectl deadletters list)");
        if (status.Clocks is { } clocks)
        {
            Line(output, "Gateway clock", clocks.GatewaySynchronized switch
            {
                true => "synchronized (NTP)",
                false => "NOT synchronized: device clocks are compared with a clock that may be wrong; readings far ahead are flagged, not refused",
                null => "synchronization unknown (readings far ahead are flagged, not refused unless Agent:Clock:TrustGatewayClock is always)",
            });
            Line(output, "Device clocks", clocks.SkewedDevices.Count == 0
                ? $"all within {DurationText.Age(TimeSpan.FromSeconds(clocks.MaxSkewSeconds))} of the gateway's"
                : $"{clocks.SkewedDevices.Count} off by more than {DurationText.Age(TimeSpan.FromSeconds(clocks.MaxSkewSeconds))}: " +
                  string.Join(", ", clocks.SkewedDevices.Take(5).Select(d =>
                      $"{d.Serial} {(d.LastSkewSeconds > 0 ? "+" : "-")}{DurationText.Age(TimeSpan.FromSeconds(Math.Abs(d.LastSkewSeconds)))}")) +
                  (clocks.SkewedDevices.Count > 5 ? ", …" : ""));
        }

        if (status.NotStored is { } notStored)
        {
            // Everything that left the gateway without reaching a store: each one is data a clinician will not see.
            Line(output, "Not stored", notStored.Values.Sum() == 0 ? "none" : string.Join(", ", notStored.Where(r => r.Value > 0).Select(r => $"{Units.Count(r.Value)} {r.Key.Replace('_', ' ')}")));
        }

        output.WriteLine();
        var uplink = status.Uplink;
        if (!uplink.Configured)
        {
            Line(output, "Uplink", "not configured (Agent:Uplink:Host): readings stay in the journal");
            return;
        }

        Line(output, "Uplink", $"{uplink.Endpoint} {(uplink.Connected ? "connected" : "DISCONNECTED")}");
        if (uplink.Certificate is { } certificate)
        {
            Line(output, "Certificate", CertificateLine(certificate));
        }
        Line(output, "Synced", $"{Units.Count(uplink.AckedReadings)} readings stored in the cloud, {uplink.InFlightBatches} batches awaiting ack, {Units.Count(uplink.ResentBatches)} re-sent" +
            (uplink.DeadLetteredBatches > 0 ? $", {Units.Count(uplink.DeadLetteredBatches)} dead-lettered by the cloud" : ""));
        Line(output, "Backlog", Backlog(uplink));
        if (status.Heartbeat is { } heartbeat)
        {
            Line(output, "Heartbeat", Heartbeat(heartbeat, status.StartedAt + TimeSpan.FromSeconds(status.UptimeSeconds)));
        }
    }

    // When the cloud last heard from the gateway, against how often it should: the line that explains "offline" in the console.
    static string Heartbeat(HeartbeatStatus heartbeat, DateTimeOffset now)
    {
        var every = $"every {DurationText.Age(TimeSpan.FromSeconds(heartbeat.IntervalSeconds))}";
        return heartbeat.LastSentAt is { } last
            ? $"last sent {DurationText.Age(now - last)} ago ({Units.Utc(last)}), {every}, {Units.Count(heartbeat.Sent)} since start"
            : $"none sent yet, {every} while the uplink is up";
    }

    // While catching up, a progress line a technician can watch: what waits, how old, how fast it goes, when it is done.
    static string Backlog(UplinkStatus uplink)
    {
        if (uplink.BacklogReadings == 0)
        {
            return "none: everything acknowledged is in the cloud";
        }

        var oldest = uplink.OldestUnsyncedAgeSeconds is { } age ? $", oldest {DurationText.Age(TimeSpan.FromSeconds(age))}" : "";
        var eta = uplink.DrainEtaSeconds is { } seconds
            ? $", {uplink.AckedReadingsPerSecond:0} readings/s, done in about {DurationText.Age(TimeSpan.FromSeconds(seconds))}"
            : (uplink.Connected ? ", waiting for the first acks" : ", draining when the link is back");
        return $"{Units.Count(uplink.BacklogReadings)} readings{oldest}{eta}";
    }

    // Expiry first, then what the renewal does about it; a failing renewal names its last error and the command to look further.
    static string CertificateLine(UplinkCertificateStatus certificate)
    {
        var expiry = certificate.ExpiresInSeconds <= 0
            ? $"EXPIRED {certificate.NotAfter:yyyy-MM-dd HH:mm} UTC"
            : $"expires {certificate.NotAfter:yyyy-MM-dd HH:mm} UTC (in {DurationText.Age(TimeSpan.FromSeconds(certificate.ExpiresInSeconds))})";
        var renewal = certificate.Renewal switch
        {
            "failing" => $"renewal FAILING ({Units.Count(certificate.Failures)} attempts): {certificate.LastError} (docs/runbooks/gateway.md)",
            "renewing" => "renewing now",
            "waiting" => certificate.RenewAt is { } at ? $"renews from {at:yyyy-MM-dd HH:mm} UTC" : "renewal waiting",
            _ => "automatic renewal off (Agent:CertificateRenewal:ApiUrl): re-run edgectl gateway register before it expires",
        };
        return $"{expiry}, {renewal}";
    }

    static string Quota(JournalStatus journal) => journal.QuotaBytes <= 0
        ? $"{Units.Bytes(journal.UsedBytes)} used (no quota)"
        : $"{Units.Percent(100.0 * journal.UsedBytes / journal.QuotaBytes)} used ({Units.Bytes(journal.UsedBytes)} of {Units.Bytes(journal.QuotaBytes)})";

    static string ByReason(IReadOnlyDictionary<string, long> counts, string whenEmpty) => counts.Count == 0
        ? whenEmpty
        : string.Join(", ", counts.OrderByDescending(pair => pair.Value).ThenBy(pair => pair.Key, StringComparer.Ordinal)
            .Select(pair => $"{pair.Key} {Units.Count(pair.Value)}"));

    static void Line(TextWriter output, string label, string value) => output.WriteLine($"{label,-14}{value}");
}
