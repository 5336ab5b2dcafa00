using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Agent.Reports;

/// <summary>ECG report PDFs: how large devices may send them, and how the agent uploads them (section <c>Agent:Reports</c>).</summary>
internal sealed class ReportOptions
{
    public const string SectionName = "Agent:Reports";

    /// <summary>
    /// Largest PDF publish (the whole PDF on <c>…/pdf</c>, or one part on <c>…/pdf/{part}/{parts}</c>), in bytes. Default
    /// 20971520 (20 MiB). The device broker holds a publish in memory while it is journaled, so this bounds memory per device.
    /// </summary>
    [SettingRange(64 * 1024, 256 * 1024 * 1024, ErrorMessage = "Agent:Reports:MaxPdfPublishBytes must be between 65536 and 268435456.")]
    public int MaxPdfPublishBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Largest PDF in all (the sum of its parts), in bytes. Default 104857600 (100 MiB); keep it at or below the cloud's Reports:MaxPdfBytes.</summary>
    [SettingRange(64 * 1024, 5L * 1024 * 1024 * 1024, ErrorMessage = "Agent:Reports:MaxPdfBytes must be between 65536 and 5368709120.")]
    public long MaxPdfBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>
    /// Most of the journal quota (<c>Agent:Journal:QuotaBytes</c>) one ECG recorder's reports may hold, in percent; past it
    /// its report publishes get QuotaExceeded (back-pressure, not dead-lettered) until earlier reports are uploaded.
    /// Reports are never shed, so this keeps room for other devices' readings. Default 25.
    /// </summary>
    [SettingRange(1, 100, ErrorMessage = "Agent:Reports:MaxJournalSharePercent must be between 1 and 100.")]
    public int MaxJournalSharePercent { get; set; } = 25;

    /// <summary>
    /// The S3 endpoint report PDFs go to, as <c>scheme://host[:port]</c> (e.g. <c>https://ecg-reports.s3.eu-west-1.amazonaws.com</c>
    /// or <c>http://127.0.0.1:4568</c>). The agent PUTs only to URLs with exactly this scheme, host and port; an upload
    /// answer naming anything else is refused and counted, so whoever can publish on the gateway's uploads/response
    /// topic cannot make it send a patient's PDF elsewhere. Unset (the default): no PDF is uploaded, reports wait in the
    /// journal (each answer refused and counted).
    /// </summary>
    public string? UploadEndpoint { get; set; }

    /// <summary>Upload bandwidth for PDFs, in bytes per second; 0 (the default) is unlimited. Keeps a thin clinic link usable.</summary>
    [SettingRange(0, long.MaxValue, ErrorMessage = "Agent:Reports:UploadBytesPerSecond must be 0 (unlimited) or more.")]
    public long UploadBytesPerSecond { get; set; }

    /// <summary>Seconds to wait for the cloud's answer to an upload or record request before asking again. Default 30.</summary>
    [SettingRange(1, 3600, ErrorMessage = "Agent:Reports:ResponseTimeoutSeconds must be between 1 and 3600.")]
    public int ResponseTimeoutSeconds { get; set; } = 30;

    /// <summary>Seconds one PUT of a PDF may take before it is abandoned and started again from the first byte. Default 900.</summary>
    [SettingRange(10, 86400, ErrorMessage = "Agent:Reports:UploadTimeoutSeconds must be between 10 and 86400.")]
    public int UploadTimeoutSeconds { get; set; } = 900;

    /// <summary>Attempts of one PUT (each from the first byte) before the report waits for the next round. Default 3.</summary>
    [SettingRange(1, 20, ErrorMessage = "Agent:Reports:UploadAttempts must be between 1 and 20.")]
    public int UploadAttempts { get; set; } = 3;

    /// <summary>Longest wait between upload rounds after failures, in seconds (the wait doubles from 1 s). Default 60.</summary>
    [SettingRange(1, 3600, ErrorMessage = "Agent:Reports:MaxRetryDelaySeconds must be between 1 and 3600.")]
    public int MaxRetryDelaySeconds { get; set; } = 60;

    /// <summary>True when <paramref name="url"/> has exactly <see cref="UploadEndpoint"/>'s scheme, host and port (and no user info).</summary>
    public bool IsUploadEndpoint(Uri url) =>
        UploadEndpoint is not null
        && Uri.TryCreate(UploadEndpoint, UriKind.Absolute, out var endpoint)
        && url.IsAbsoluteUri
        && string.IsNullOrEmpty(url.UserInfo)
        && string.Equals(url.Scheme, endpoint.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(url.IdnHost, endpoint.IdnHost, StringComparison.OrdinalIgnoreCase)
        && url.Port == endpoint.Port;
}
