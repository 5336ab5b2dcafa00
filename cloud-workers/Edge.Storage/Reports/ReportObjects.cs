using System.Globalization;
using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;

namespace Edge.Storage.Reports;

/// <summary>What S3 holds under a key: its length and MD5 (the ETag of a single PUT), or null when there is no object.</summary>
public sealed record StoredObject(long SizeBytes, string? Md5);

/// <summary>
/// The report PDFs in S3: keys <c>{yyyy}/{MM}/{dd}/{report_id}.pdf</c> (UTC date the report reached its gateway or the
/// API), presigned PUT and GET URLs, checks that an object is complete, and direct puts for the API's upload path.
/// </summary>
public sealed class ReportObjects : IDisposable
{
    private readonly ReportOptions _options;
    private readonly AmazonS3Client _client;
    private readonly TimeProvider _time;

    public ReportObjects(IOptions<ReportOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        var config = new AmazonS3Config
        {
            RegionEndpoint = RegionEndpoint.GetBySystemName(_options.Region),
            ForcePathStyle = _options.ForcePathStyle,
            // Checksums only where S3 requires them: S3-compatible servers (s3rver) do not understand the flexible
            // checksum trailers, and the object's MD5 is checked separately against the ETag.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrWhiteSpace(_options.ServiceUrl))
        {
            config.ServiceURL = _options.ServiceUrl;
            config.AuthenticationRegion = _options.Region;
        }

        _client = Credentials(_options) is { } credentials ? new AmazonS3Client(credentials, config) : new AmazonS3Client(config);
    }

    public string Bucket => _options.Bucket ?? throw new InvalidOperationException("Reports:Bucket is not set.");

    /// <summary><c>{yyyy}/{MM}/{dd}/{reportId}.pdf</c> for the UTC date of <paramref name="receivedAt"/>.</summary>
    public static string KeyFor(DateTimeOffset receivedAt, string reportId) =>
        string.Create(CultureInfo.InvariantCulture, $"{receivedAt.UtcDateTime:yyyy'/'MM'/'dd}/{reportId}.pdf");

    /// <summary>The report's location as the device contract writes it: <c>s3://bucket/key</c>.</summary>
    public string S3Url(string key) => $"s3://{Bucket}/{key}";

    /// <summary>A URL that lets its holder PUT exactly this key until it expires, and nothing else.</summary>
    public Task<(string Url, DateTimeOffset ExpiresAt)> PresignUploadAsync(string key) =>
        PresignAsync(key, HttpVerb.PUT, _options.UploadUrlMinutes);

    /// <summary>A URL that downloads this key until it expires.</summary>
    public Task<(string Url, DateTimeOffset ExpiresAt)> PresignDownloadAsync(string key) =>
        PresignAsync(key, HttpVerb.GET, _options.DownloadUrlMinutes);

    private async Task<(string Url, DateTimeOffset ExpiresAt)> PresignAsync(string key, HttpVerb verb, int minutes)
    {
        var expires = _time.GetUtcNow().AddMinutes(minutes);
        var url = await _client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = Bucket,
            Key = key,
            Verb = verb,
            Expires = expires.UtcDateTime,
            Protocol = Protocol(),
        }).ConfigureAwait(false);
        return (url, expires);
    }

    /// <summary>The object's length and MD5, or null when the key holds nothing.</summary>
    public async Task<StoredObject?> HeadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var head = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            return new StoredObject(head.ContentLength, Md5OfETag(head.ETag));
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Puts a PDF (the API's direct upload) and returns the MD5 S3 reports for it.</summary>
    public async Task<string?> PutAsync(string key, Stream content, CancellationToken cancellationToken)
    {
        var response = await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = Bucket,
            Key = key,
            InputStream = content,
            AutoCloseStream = false,
            ContentType = "application/pdf",
            // S3-compatible servers such as s3rver do not accept aws-chunked bodies, which SDK 4 sends by default.
            UseChunkEncoding = false,
        }, cancellationToken).ConfigureAwait(false);
        return Md5OfETag(response.ETag);
    }

    public void Dispose() => _client.Dispose();

    /// <summary>A single PUT's ETag is the quoted hex MD5 of the body; a multipart ETag ("…-N") is not, and gives null.</summary>
    public static string? Md5OfETag(string? etag)
    {
        var value = etag?.Trim('"').ToLowerInvariant();
        return value is { Length: 32 } && value.All(char.IsAsciiHexDigit) ? value : null;
    }

    private Amazon.S3.Protocol Protocol() =>
        _options.ServiceUrl is { } url && url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? Amazon.S3.Protocol.HTTP : Amazon.S3.Protocol.HTTPS;

    private static BasicAWSCredentials? Credentials(ReportOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.AccessKeyId))
        {
            return null;
        }

        var secret = options.SecretAccessKeyFile is { } file ? File.ReadAllText(file).Trim() : options.SecretAccessKey;
        return new BasicAWSCredentials(options.AccessKeyId, secret);
    }
}
