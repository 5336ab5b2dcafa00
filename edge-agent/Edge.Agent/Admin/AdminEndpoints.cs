using Edge.Agent.Broker;
using Edge.Agent.Credentials;
using Edge.Agent.Downlink;
using Edge.Agent.Hosting;
using Edge.Agent.Ingest;
using Edge.Agent.Journal;
using Edge.Hosting.Metrics;
using Edge.Agent.Uplink;
using Edge.Contracts.Admin;
using Edge.Contracts.Devices;
using Edge.Contracts.Validation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Admin;

/// <summary>The admin routes edgectl calls over the Unix socket (see Edge.Contracts.Admin for the shapes).</summary>
internal static class AdminEndpoints
{
    public static void MapAdmin(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1");
        v1.MapGet("/status", Status);
        v1.MapGet("/metrics", (MetricsCollector metrics) => Results.Text(metrics.Render(), MetricsCollector.ContentType));
        v1.MapGet("/devices", ListDevices);
        v1.MapPost("/devices", AddDevice);
        v1.MapPost("/devices/{serial}/rotate", RotateDevice);
        v1.MapDelete("/devices/{serial}", RemoveDevice);
        v1.MapGet("/deadletters", ListDeadLetters);
        v1.MapGet("/device-ca", Broker.Tls.DeviceListenerStatus.DeviceCa);
        v1.MapGet("/devices/{serial}/config", GetConfig);
        v1.MapPost("/devices/{serial}/config", PushOnSiteConfigAsync);
    }

    private static IResult Status(
        ReadingJournal journal,
        IngestMetrics counters,
        ConnectedDevices connected,
        AgentClock clock,
        UplinkState uplink,
        Renewal.RenewalState renewal,
        IOptions<UplinkOptions> uplinkOptions,
        IOptions<AgentOptions> agent,
        IOptions<BrokerOptions> broker,
        Broker.Tls.ServerCertificate serverCertificate,
        Clock.DeviceClocks clocks,
        IOptions<Heartbeat.HeartbeatOptions> heartbeat)
    {
        var snapshot = journal.Snapshot;
        var commits = journal.Commits;
        var lanes = Lanes.All.Select(lane => new LaneStatus(
            Lanes.Name(lane),
            snapshot.EntriesPerLane[(int)lane],
            snapshot.BytesPerLane[(int)lane],
            journal.OldestAge(lane)?.TotalSeconds)).ToList();
        var backlog = snapshot.EntriesPerLane.Sum();
        var oldest = lanes.Max(l => l.OldestAgeSeconds);
        var rate = uplink.AckRate;
        var uplinkStatus = new UplinkStatus(
            uplinkOptions.Value.Enabled,
            uplinkOptions.Value.Enabled ? $"mqtts://{uplinkOptions.Value.Host}:{uplinkOptions.Value.Port}" : null,
            uplink.Connected,
            uplink.InFlight,
            uplink.AckedReadings,
            uplink.SentBatches,
            uplink.ResentBatches,
            uplink.DeadLetteredBatches,
            uplink.LastAckAt,
            rate,
            backlog,
            oldest,
            rate > 0 ? backlog / rate : null,
            renewal.NotAfter is { } notAfter
                ? new UplinkCertificateStatus(notAfter, renewal.ExpirySeconds ?? 0, renewal.State, renewal.RenewAt, renewal.LastError, renewal.Renewals, renewal.Failures)
                : null);
        var status = new AgentStatus(
            agent.Value.GatewayId,
            AgentVersion.Current,
            clock.StartedAt,
            clock.Uptime.TotalSeconds,
            connected.Count,
            new JournalStatus(journal.Path, snapshot.Epoch, snapshot.LastSequence, snapshot.QuotaBytes, snapshot.UsedBytes, journal.Encrypted, lanes, snapshot.ShedByReason,
                new CommitStatus(commits.Count, commits.OperationsPerCommit, commits.SyncMillisecondsPerCommit, (int)journal.MinCommitInterval.TotalMilliseconds,
                    journal.WriteAheadLogPath is not null, journal.WriteAheadLogFull)),
            new Contracts.Admin.IngestCounters(counters.Accepted, counters.Duplicates, counters.Refused, counters.RefusedByReason),
            snapshot.DeadLetters,
            uplinkStatus,
            Broker.Tls.DeviceListenerStatus.Describe(broker.Value, serverCertificate),
            NotStoredCounts.Now(journal, uplink),
            new ClockStatus(clocks.GatewaySynchronized, clocks.GatewayTrusted, clocks.MaxSkew.TotalSeconds,
                [.. clocks.Skewed().Select(d => new DeviceClockSkew(d.Serial, d.LastSkew.TotalSeconds, d.SkewedReadings))]),
            new HeartbeatStatus(heartbeat.Value.IntervalSeconds, uplink.LastHeartbeatAt, uplink.HeartbeatsSent));
        return Results.Json(status, AdminJsonContext.Default.AgentStatus);
    }

    private static IResult ListDevices(DeviceCredentialStore store, ConnectedDevices connected)
    {
        var list = store.List()
            .Select(c => new DeviceCredentialInfo(c.Serial, KindName(c.Serial), c.CreatedAt, c.RotatedAt, connected.IsConnected(c.Serial), c.OriginOrDefault))
            .ToArray();
        return Results.Json(list, AdminJsonContext.Default.DeviceCredentialInfoArray);
    }

    private static async Task<IResult> AddDevice(HttpRequest request, DeviceCredentialStore store)
    {
        AddDeviceRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync(AdminJsonContext.Default.AddDeviceRequest);
        }
        catch (System.Text.Json.JsonException ex)
        {
            return Problem(400, "Invalid request body", $"expected {{\"serial\": \"CPAP-2301-9912\"}}: {ex.Message}");
        }

        if (!SerialNumber.TryParse(body?.Serial, out var serial, out var reason))
        {
            return Problem(400, "Invalid serial", $"serial: {reason}");
        }

        if (body!.Origin is { } origin && !CredentialOrigins.IsKnown(origin))
        {
            return Problem(400, "Invalid origin", $"origin: must be {CredentialOrigins.Operator} or {CredentialOrigins.Simulator} (was '{origin}')");
        }

        try
        {
            return Results.Json(store.Add(serial, body.Origin ?? CredentialOrigins.Operator), AdminJsonContext.Default.DeviceSecret, statusCode: 201);
        }
        catch (CredentialConflictException ex)
        {
            return Problem(409, "Credential exists", ex.Message);
        }
    }

    private static IResult RotateDevice(string serial, string? ifOrigin, DeviceCredentialStore store)
    {
        if (!SerialNumber.TryParse(serial, out var parsed, out var reason))
        {
            return Problem(400, "Invalid serial", $"serial: {reason}");
        }

        if (ifOrigin is not null && !CredentialOrigins.IsKnown(ifOrigin))
        {
            return Problem(400, "Invalid origin", $"ifOrigin: must be {CredentialOrigins.Operator} or {CredentialOrigins.Simulator} (was '{ifOrigin}')");
        }

        try
        {
            return Results.Json(store.Rotate(parsed, ifOrigin), AdminJsonContext.Default.DeviceSecret);
        }
        catch (KeyNotFoundException ex)
        {
            return Problem(404, "Unknown device", ex.Message);
        }
        catch (CredentialOriginException ex)
        {
            return Problem(409, "Credential of another origin", ex.Message);
        }
    }

    private static IResult RemoveDevice(string serial, DeviceCredentialStore store)
    {
        if (!SerialNumber.TryParse(serial, out var parsed, out var reason))
        {
            return Problem(400, "Invalid serial", $"serial: {reason}");
        }

        return store.Remove(parsed) ? Results.NoContent() : Problem(404, "Unknown device", $"{serial} has no credential on this agent.");
    }

    private static IResult GetConfig(string serial, DeviceStateStore state)
    {
        if (!SerialNumber.TryParse(serial, out var parsed, out var reason))
        {
            return Problem(400, "Invalid serial", $"serial: {reason}");
        }

        return state.GetConfig(parsed.Value) is { } config
            ? Results.Json(ToInfo(config), AdminJsonContext.Default.DeviceConfigInfo)
            : Problem(404, "No config", $"{serial} has no desired config on this gateway.");
    }

    /// <summary>
    /// On-site push for a technician without cloud access: the body is the device's config message (docs/payloads.md);
    /// the agent gives it the next version, publishes it to the device and reports it upstream. The cloud keeps it only
    /// if its own config did not change meanwhile (docs/config-push.md).
    /// </summary>
    private static async Task<IResult> PushOnSiteConfigAsync(
        string serial,
        HttpRequest request,
        DeviceStateStore state,
        DevicePublisher publisher,
        DeviceThresholds thresholds,
        ILogger<DeviceStateStore> logger)
    {
        if (!SerialNumber.TryParse(serial, out var parsed, out var reason))
        {
            return Problem(400, "Invalid serial", $"serial: {reason}");
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var validated = PayloadValidator.ValidateConfig(body, parsed);
        if (!validated.IsValid)
        {
            return Problem(400, "Invalid config", validated.ErrorSummary());
        }

        // The actor is the socket peer's user as the kernel reports it (SO_PEERCRED); no header can name someone else.
        var actor = AdminCaller.Of(request.HttpContext).Name;
        var config = await state.AcceptOnSiteConfigAsync(parsed.Value, version => WithVersion(body, version), actor);
        thresholds.Apply(validated.Value!);
        await publisher.PublishConfigAsync(parsed.Value, config.Message, CancellationToken.None);
        Log.ConfigDelivered(logger, parsed.Value, config.Version, ConfigSources.OnSite);
        return Results.Json(ToInfo(config), AdminJsonContext.Default.DeviceConfigInfo, statusCode: 201);
    }

    private static byte[] WithVersion(byte[] message, int version)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(message)!.AsObject();
        node["version"] = version;
        return System.Text.Encoding.UTF8.GetBytes(node.ToJsonString());
    }

    private static DeviceConfigInfo ToInfo(DesiredConfig c)
    {
        using var message = System.Text.Json.JsonDocument.Parse(c.Message);
        return new DeviceConfigInfo(c.Serial, c.Version, c.Source, c.DeviceStatus, c.DeviceReason, c.DeviceAnsweredAt, message.RootElement.Clone());
    }

    private static IResult ListDeadLetters(ReadingJournal journal, int? limit)
    {
        if (limit is < 1 or > 10_000)
        {
            return Problem(400, "Invalid limit", "limit: must be between 1 and 10000");
        }

        var letters = journal.ListDeadLetters(limit ?? 100)
            .Select(x => new DeadLetterInfo(
                x.Id,
                x.Letter.ReceivedAt,
                x.Letter.ClientId,
                x.Letter.Topic,
                x.Letter.ReasonCode,
                x.Letter.Reason,
                x.PayloadBytes,
                Preview(x.Letter.Payload.Span)))
            .ToArray();
        return Results.Json(letters, AdminJsonContext.Default.DeadLetterInfoArray);
    }

    // Valid UTF-8 is shown as text; anything else as base64 so a technician can still copy it.
    private static string Preview(ReadOnlySpan<byte> payload) =>
        System.Text.Unicode.Utf8.IsValid(payload) ? System.Text.Encoding.UTF8.GetString(payload) : "base64:" + Convert.ToBase64String(payload);

    private static string KindName(string serial) =>
        SerialNumber.TryParse(serial, out var parsed, out _) ? DeviceKinds.Name(parsed.Kind) : "unknown";

    private static IResult Problem(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail);
}
