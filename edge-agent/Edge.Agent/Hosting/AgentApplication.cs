using Edge.Agent.Admin;
using Edge.Agent.Broker;
using Edge.Agent.Broker.Listener;
using Edge.Agent.Credentials;
using Edge.Agent.Downlink;
using Edge.Agent.Ingest;
using Edge.Agent.Journal;
using Edge.Agent.Metrics;
using Edge.Hosting;
using Edge.Hosting.Metrics;
using Edge.Agent.Reports;
using Edge.Agent.Renewal;
using Edge.Agent.Uplink;
using Edge.Contracts.Uplink;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Hosting;

/// <summary>Composes the agent: configuration, one Add per feature, the admin socket. Used by Program and the tests.</summary>
internal static class AgentApplication
{
    /// <summary>Environment variable naming the configuration file instead of /etc/edge-agent/agent.json.</summary>
    public const string ConfigFileVariable = "EDGE_AGENT_CONFIG";

    public static WebApplication Build(string[] args) => Build(args, _ => { });

    /// <summary>Composes the agent, then lets a test replace services before the host is built (fault injection).</summary>
    internal static WebApplication Build(string[] args, Action<IServiceCollection> replaceServices)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        // appsettings.json < /etc/edge-agent/agent.json < environment (Agent__…) < command line.
        builder.Configuration.AddEdgeSettings(ConfigFileVariable, "/etc/edge-agent/agent.json", args);

        builder.Services.AddSystemd();
        builder.Services.AddWindowsService(o => o.ServiceName = "edge-agent");
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<AgentClock>();
        builder.AddAgentOptions();
        builder.AddJournal();
        builder.AddDeviceBroker();
        builder.AddUplink();
        builder.AddReports();
        builder.AddMetricsCollector();
        builder.AddAdminSocket();

        replaceServices(builder.Services);
        var app = builder.Build();
        app.UseAdminRequestLimits();
        app.UseAdminAudit();
        app.MapAdmin();
        return app;
    }

    private static void AddAgentOptions(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AgentOptions>().BindConfiguration(AgentOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AgentOptions>, AgentOptionsValidator>();
        builder.Services.AddOptions<JournalOptions>().BindConfiguration(JournalOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<JournalOptions>, JournalOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<JournalOptions>, JournalOptionsRules>();
        builder.Services.AddOptions<BrokerOptions>().BindConfiguration(BrokerOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<BrokerOptions>, BrokerOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<BrokerOptions>, BrokerOptionsRules>();
        builder.Services.AddOptions<LaneOptions>().BindConfiguration(LaneOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<LaneOptions>, LaneOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<LaneOptions>, LaneOptionsRules>();
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsRules>();
    }

    private static void AddJournal(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp =>
        {
            var agent = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            var options = sp.GetRequiredService<IOptions<JournalOptions>>().Value;
            var path = options.Path ?? Path.Combine(agent.StateDirectory, "journal.db");
            var logger = sp.GetRequiredService<ILogger<ReadingJournal>>();
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var dataSync = sp.GetService<JournalDataSync>()?.Sync ?? FileSync.DataSync;
            // A device may have ReceiveMaximum readings in flight; all of them must be recognised when it re-sends them.
            var inFlight = sp.GetRequiredService<IOptions<BrokerOptions>>().Value.ReceiveMaximum;
            // Before the engine opens: LiteDB reads its cache's segment sizes then.
            LiteDbCache.Bound(options.CacheSegmentPages);
            var journal = ReadingJournal.Open(path, agent.GatewayId, options, sp.GetRequiredService<TimeProvider>(), logger, dataSync, inFlight);
            var s = journal.Snapshot;
            Log.JournalOpened(logger, path, s.Epoch, s.LastSequence, s.EntriesPerLane.Sum(), s.UsedBytes, s.QuotaBytes,
                (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return journal;
        });

        // Registered before the broker so it stops after it: the last commit finishes before the file closes.
        builder.Services.AddHostedService<JournalLifetime>();
    }

    private static void AddDeviceBroker(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp =>
        {
            var agent = sp.GetRequiredService<IOptions<AgentOptions>>().Value;
            return ActivatorUtilities.CreateInstance<DeviceCredentialStore>(sp, Path.Combine(agent.StateDirectory, "devices.json"));
        });
        builder.Services.AddSingleton<ConnectedDevices>();
        builder.Services.AddSingleton(sp =>
        {
            var broker = sp.GetRequiredService<IOptions<BrokerOptions>>().Value;
            // Every connected device, plus room for the ones still connecting.
            return new ConnectionLimits(broker.MaxClients + broker.MaxPendingConnections, broker.MaxPendingConnections, broker.MaxConnectionsPerAddress);
        });
        builder.Services.AddSingleton(sp => new ListenerMetrics(() => sp.GetRequiredService<ConnectionLimits>().Pending));
        builder.Services.AddDeviceAuthentication();
        builder.Services.AddSingleton<DeviceAuthenticator>();
        builder.Services.AddSingleton<RefusalLimiter>();
        builder.Services.AddSingleton<TopicAcl>();
        builder.Services.AddSingleton<LaneClassifier>();
        builder.Services.AddSingleton<IngestMetrics>();
        builder.Services.AddOptions<Clock.ClockOptions>().BindConfiguration(Clock.ClockOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<Clock.ClockOptions>, Clock.ClockOptionsValidator>();
        builder.Services.AddSingleton<Clock.GatewaySyncState>();
        builder.Services.AddSingleton<Clock.DeviceClocks>();
        builder.Services.AddSingleton<IngestPipeline>();
        builder.Services.AddSingleton<Broker.Tls.ServerCertificate>();
        builder.Services.AddHostedService<Broker.Tls.ServerCertificateRenewal>();
        builder.Services.AddOptions<Presence.PresenceOptions>().BindConfiguration(Presence.PresenceOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<Presence.PresenceOptions>, Presence.PresenceOptionsValidator>();
        builder.Services.AddSingleton<Presence.DevicePresence>();
        builder.Services.AddSingleton<DeviceBroker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DeviceBroker>());

        // Desired device state (configs, firmware offers) and the devices' answers; restored after the broker starts.
        builder.Services.AddSingleton<DeviceStateStore>();
        builder.Services.AddSingleton<DevicePublisher>();
        builder.Services.AddSingleton<DeviceThresholds>();
        builder.Services.AddSingleton<DeviceReplies>();
        builder.Services.AddHostedService<DeviceStateRestorer>();
    }

    private static void AddUplink(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<UplinkOptions>().BindConfiguration(UplinkOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<UplinkOptions>, UplinkOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<UplinkOptions>, UplinkOptionsRules>();
        builder.Services.AddSingleton<UplinkState>();
        builder.Services.AddSingleton<IDownlinkHandler, ConfigDownlink>();
        builder.Services.AddSingleton<IDownlinkHandler, FirmwareDownlink>();
        builder.Services.AddSingleton<IDownlinkHandler, EventsAckDownlink>();
        builder.Services.AddSingleton<IUplinkWorker, EventSender>();
        builder.Services.AddOptions<Heartbeat.HeartbeatOptions>().BindConfiguration(Heartbeat.HeartbeatOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<Heartbeat.HeartbeatOptions>, Heartbeat.HeartbeatOptionsValidator>();
        builder.Services.AddSingleton<Heartbeat.HeartbeatReport>();
        builder.Services.AddSingleton<IUplinkWorker, Heartbeat.HeartbeatSender>();
        builder.Services.AddOptions<RenewalOptions>().BindConfiguration(RenewalOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RenewalOptions>, RenewalOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<RenewalOptions>, RenewalOptionsRules>();
        builder.Services.AddSingleton<UplinkIdentity>();
        builder.Services.AddSingleton<RenewalState>();
        builder.Services.AddSingleton<IUplinkWorker, CertificateRenewer>();
        builder.Services.AddHostedService<UplinkHost>();
    }

    // Reports are always journaled; the uploader runs with the uplink (it is an uplink worker and downlink handler).
    private static void AddReports(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReportOptions>().BindConfiguration(ReportOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ReportOptions>, ReportOptionsValidator>();
        builder.Services.AddSingleton<IValidateOptions<ReportOptions>, ReportOptionsRules>();
        builder.Services.AddSingleton<ReportSignal>();
        builder.Services.AddSingleton<ReportIngest>();
        builder.Services.AddSingleton<ReportUploader>();
        builder.Services.AddSingleton<IUplinkWorker>(sp => sp.GetRequiredService<ReportUploader>());
        builder.Services.AddSingleton<IDownlinkHandler>(sp => sp.GetRequiredService<ReportUploader>());
    }

    // Every meter of this agent, listened to from the start so counters and histograms cover the whole run. Built as a
    // hosted service so it exists before the broker takes the first reading, not at the first scrape.
    private static void AddMetricsCollector(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new HostMetrics(sp.GetRequiredService<AgentClock>(), sp.GetRequiredService<IOptions<AgentOptions>>().Value.GatewayId));
        builder.Services.AddSingleton(sp => new MetricsCollector(
        [
            sp.GetRequiredService<HostMetrics>().Meter,
            sp.GetRequiredService<IngestMetrics>().Meter,
            sp.GetRequiredService<Clock.DeviceClocks>().Meter,
            sp.GetRequiredService<ReadingJournal>().Meter,
            sp.GetRequiredService<ConnectedDevices>().Meter,
            sp.GetRequiredService<ListenerMetrics>().Meter,
            sp.GetRequiredService<DeviceAuthMetrics>().Meter,
            sp.GetRequiredService<UplinkState>().Meter,
            sp.GetRequiredService<RenewalState>().Meter,
        ]));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MetricsCollector>());
    }

    private static void AddAdminSocket(this WebApplicationBuilder builder)
    {
        var agent = builder.Configuration.GetSection(AgentOptions.SectionName).Get<AgentOptions>() ?? new AgentOptions();
        var admin = builder.Configuration.GetSection(AdminOptions.SectionName).Get<AdminOptions>() ?? new AdminOptions();
        var socketPath = admin.SocketPath ?? Path.Combine(agent.RuntimeDirectory, "admin.sock");
        builder.Services.AddSingleton(new AdminSocket(socketPath));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(socketPath))!);
            File.Delete(socketPath); // a stale socket from a crash would make the bind fail
            kestrel.ListenUnixSocket(socketPath);

            // The socket's only listener: bounded so that one caller cannot make the agent buffer without end.
            kestrel.Limits.MaxRequestBodySize = admin.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 32;
            kestrel.Limits.MaxRequestLineSize = 4096;
        });
        builder.Services.AddHostedService<AdminSocketPermissions>();
    }
}
