using Edge.Agent.Admin;
using Edge.Agent.Broker;
using Edge.Agent.Broker.Listener;
using Edge.Agent.Credentials;
using Edge.Agent.Downlink;
using Edge.Agent.Ingest;
using Edge.Agent.Journal;
using Edge.Agent.Metrics;
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
public static class AgentApplication
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
        var configFile = Environment.GetEnvironmentVariable(ConfigFileVariable) ?? "/etc/edge-agent/agent.json";
        builder.Configuration.AddJsonFile(configFile, optional: true, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(args);

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
        builder.Services.AddOptions<AgentOptions>().BindConfiguration(AgentOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<JournalOptions>().BindConfiguration(JournalOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => string.IsNullOrEmpty(o.EncryptionKeyCredential) || string.IsNullOrEmpty(o.EncryptionKeyFile),
                "Agent:Journal:EncryptionKeyCredential and Agent:Journal:EncryptionKeyFile both give the journal's key; set one of them.")
            .ValidateOnStart();
        builder.Services.AddOptions<BrokerOptions>().BindConfiguration(BrokerOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => System.Net.IPAddress.TryParse(o.BindAddress, out _), "Agent:Broker:BindAddress must be an IP address such as 0.0.0.0 or 127.0.0.1.")
            .Validate(o => !o.Tls.Configured || File.Exists(o.Tls.CertificatePath), "Agent:Broker:Tls:CertificatePath does not exist.")
            .Validate(o => o.Tls.Configured || string.IsNullOrWhiteSpace(o.Tls.KeyPath), "Agent:Broker:Tls:KeyPath is set without Agent:Broker:Tls:CertificatePath; set both, or neither for the agent's own certificate.")
            .Validate(o => o.Tls.ClientCaPath is null || File.Exists(o.Tls.ClientCaPath), "Agent:Broker:Tls:ClientCaPath does not exist.")
            .Validate(o => o.Port != o.Tls.Port, "Agent:Broker:Port and Agent:Broker:Tls:Port must differ.")
            .Validate(o => o.Tls.ServerNames.All(Broker.Tls.ServerNames.IsValid), "Agent:Broker:Tls:ServerNames must list DNS names or IP addresses, e.g. [\"gateway.clinic.lan\", \"192.168.10.5\"].")
            .ValidateOnStart();
        builder.Services.AddOptions<LaneOptions>().BindConfiguration(LaneOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.CpapRrLow < o.CpapRrHigh, "Agent:Lanes:CpapRrLow must be below Agent:Lanes:CpapRrHigh.")
            .ValidateOnStart();
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => AdminSocketMode.TryParse(o.SocketMode, out _), "Agent:Admin:SocketMode must be an octal file mode such as 0660.")
            .Validate(o => !AdminSocketMode.LetsOthersConnect(o.SocketMode),
                "Agent:Admin:SocketMode lets every local user write to (connect to) the admin socket; use 0660 and put the people who may use it in Agent:Admin:SocketGroup.")
            .Validate(o => string.IsNullOrEmpty(o.SocketGroup) || OperatingSystem.IsWindows() || Contracts.Security.UnixAccounts.FindGroup(o.SocketGroup) is not null,
                "Agent:Admin:SocketGroup names a group that does not exist on this machine (the .deb creates edge-admin).")
            .ValidateOnStart();
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
        builder.Services.AddOptions<Clock.ClockOptions>().BindConfiguration(Clock.ClockOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<Clock.GatewaySyncState>();
        builder.Services.AddSingleton<Clock.DeviceClocks>();
        builder.Services.AddSingleton<IngestPipeline>();
        builder.Services.AddSingleton<Broker.Tls.ServerCertificate>();
        builder.Services.AddHostedService<Broker.Tls.ServerCertificateRenewal>();
        builder.Services.AddOptions<Presence.PresenceOptions>().BindConfiguration(Presence.PresenceOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
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
        builder.Services.AddOptions<UplinkOptions>().BindConfiguration(UplinkOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => !o.Enabled || (o.CertificatePath is null) == (o.KeyPath is null), "Agent:Uplink:CertificatePath and Agent:Uplink:KeyPath go together.")
            .Validate(o => o.CertificatePath is null || File.Exists(o.CertificatePath), "Agent:Uplink:CertificatePath does not exist.")
            .Validate(o => o.KeyPath is null || File.Exists(o.KeyPath), "Agent:Uplink:KeyPath does not exist.")
            .Validate(o => o.CaPath is null || File.Exists(o.CaPath), "Agent:Uplink:CaPath does not exist.")
            .Validate(o => o.MaxBatchBytes <= o.BytesPerSecond,
                "Agent:Uplink:MaxBatchBytes is above Agent:Uplink:BytesPerSecond: a full batch would never fit one second's budget. Lower the first or raise the second.")
            .Validate<IOptions<BrokerOptions>>((o, broker) => broker.Value.MaxPayloadBytes + BatchCodec.MaxOneReadingOverheadBytes <= o.MaxBatchBytes,
                $"Agent:Broker:MaxPayloadBytes does not fit in Agent:Uplink:MaxBatchBytes: a reading needs up to its size + {BatchCodec.MaxOneReadingOverheadBytes} bytes in a batch, so readings of the largest size would be journaled and never sent. Lower Agent:Broker:MaxPayloadBytes or raise Agent:Uplink:MaxBatchBytes.")
            .ValidateOnStart();
        builder.Services.AddSingleton<UplinkState>();
        builder.Services.AddSingleton<IDownlinkHandler, ConfigDownlink>();
        builder.Services.AddSingleton<IDownlinkHandler, FirmwareDownlink>();
        builder.Services.AddSingleton<IDownlinkHandler, EventsAckDownlink>();
        builder.Services.AddSingleton<IUplinkWorker, EventSender>();
        builder.Services.AddOptions<Heartbeat.HeartbeatOptions>().BindConfiguration(Heartbeat.HeartbeatOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<Heartbeat.HeartbeatReport>();
        builder.Services.AddSingleton<IUplinkWorker, Heartbeat.HeartbeatSender>();
        builder.Services.AddOptions<RenewalOptions>().BindConfiguration(RenewalOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.ApiUrl is null || (Uri.TryCreate(o.ApiUrl, UriKind.Absolute, out var u) && u.Scheme == "https" && string.IsNullOrEmpty(u.UserInfo)),
                "Agent:CertificateRenewal:ApiUrl must be an https URL (the renewal is authenticated by the gateway's certificate over TLS), e.g. https://api.example.org.")
            .Validate(o => o.ApiCaPath is null || File.Exists(o.ApiCaPath), "Agent:CertificateRenewal:ApiCaPath does not exist.")
            .Validate(o => o.RetryMinSeconds <= o.RetryMaxSeconds, "Agent:CertificateRenewal:RetryMinSeconds must not exceed RetryMaxSeconds.")
            .ValidateOnStart();
        builder.Services.AddSingleton<UplinkIdentity>();
        builder.Services.AddSingleton<RenewalState>();
        builder.Services.AddSingleton<IUplinkWorker, CertificateRenewer>();
        builder.Services.AddHostedService<UplinkHost>();
    }

    // Reports are always journaled; the uploader runs with the uplink (it is an uplink worker and downlink handler).
    private static void AddReports(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReportOptions>().BindConfiguration(ReportOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.MaxPdfPublishBytes <= o.MaxPdfBytes, "Agent:Reports:MaxPdfPublishBytes must not exceed Agent:Reports:MaxPdfBytes.")
            .Validate(o => o.UploadEndpoint is null || (Uri.TryCreate(o.UploadEndpoint, UriKind.Absolute, out var u) && u.Scheme is "https" or "http"
                && string.IsNullOrEmpty(u.UserInfo) && u.AbsolutePath == "/" && string.IsNullOrEmpty(u.Query) && string.IsNullOrEmpty(u.Fragment)),
                "Agent:Reports:UploadEndpoint must be scheme://host[:port] with scheme https or http and nothing after the port, e.g. https://ecg-reports.s3.eu-west-1.amazonaws.com.")
            .ValidateOnStart();
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
