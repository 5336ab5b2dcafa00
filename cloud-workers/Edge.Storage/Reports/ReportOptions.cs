using Edge.Contracts.Settings;
using System.ComponentModel.DataAnnotations;

namespace Edge.Storage.Reports;

/// <summary>
/// Where ECG report PDFs live (configuration section <c>Reports</c>), shared by the ingest worker (presigned uploads for
/// gateways) and the API (direct uploads, download links). Without a <see cref="Bucket"/> the feature is off.
/// </summary>
/// <remarks>
/// Credentials: <see cref="AccessKeyId"/> with <see cref="SecretAccessKeyFile"/> (or <see cref="SecretAccessKey"/>,
/// e.g. from the environment <c>Reports__SecretAccessKey</c>); when neither is set, the AWS SDK's default chain
/// (environment, instance or task role) applies, which is what production on AWS uses. Secrets are never logged.
/// </remarks>
public sealed class ReportOptions
{
    public const string SectionName = "Reports";

    /// <summary>The S3 bucket of report PDFs. Unset (the default) turns reports off.</summary>
    public string? Bucket { get; set; }

    /// <summary>An S3-compatible endpoint instead of AWS (e.g. http://127.0.0.1:4568 for s3rver). Default: AWS for <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>AWS region (also signs requests to <see cref="ServiceUrl"/>). Default us-east-1.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Reports:Region is required, e.g. eu-west-1.")]
    public string Region { get; set; } = "us-east-1";

    /// <summary>Path-style addressing (http://host/bucket/key): needed for s3rver and most on-prem servers. Default false.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Access key id; with a secret below. Default: the SDK's credential chain.</summary>
    public string? AccessKeyId { get; set; }

    /// <summary>A file holding the secret access key (mode 0600). Preferred over <see cref="SecretAccessKey"/>.</summary>
    public string? SecretAccessKeyFile { get; set; }

    /// <summary>The secret access key itself, for the environment (<c>Reports__SecretAccessKey</c>).</summary>
    public string? SecretAccessKey { get; set; }

    /// <summary>Minutes a presigned upload URL stays valid. Default 15.</summary>
    [SettingRange(1, 10080, ErrorMessage = "Reports:UploadUrlMinutes must be between 1 and 10080 (7 days, the S3 limit).")]
    public int UploadUrlMinutes { get; set; } = 15;

    /// <summary>Minutes a presigned download link in the API's report list stays valid. Default 15.</summary>
    [SettingRange(1, 10080, ErrorMessage = "Reports:DownloadUrlMinutes must be between 1 and 10080 (7 days, the S3 limit).")]
    public int DownloadUrlMinutes { get; set; } = 15;

    /// <summary>Largest report PDF accepted from gateways and direct uploads, in bytes. Default 104857600 (100 MiB).</summary>
    [SettingRange(1024, 5L * 1024 * 1024 * 1024, ErrorMessage = "Reports:MaxPdfBytes must be between 1024 and 5368709120 (5 GiB, the S3 single-PUT limit).")]
    public long MaxPdfBytes { get; set; } = 100L * 1024 * 1024;

    public bool Enabled => !string.IsNullOrWhiteSpace(Bucket);
}
