using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Edge.Contracts.Reports;
using Microsoft.Extensions.Options;

namespace Edge.Storage.Reports;

/// <summary>Why an object is not the PDF a record announced; the <c>reason</c> label of the refusal counter.</summary>
public enum ObjectProblem
{
    None,

    /// <summary>No object under the key.</summary>
    Missing,

    /// <summary>Larger than the limit, or another length than announced.</summary>
    Size,

    /// <summary>Its bytes do not start with <c>%PDF-</c>.</summary>
    NotPdf,

    /// <summary>Its SHA-256 or MD5 is not the announced one.</summary>
    Checksum,
}

/// <summary>The outcome of <see cref="ReportObjects.VerifyAsync"/>: no problem, or which one and a sentence saying what was found.</summary>
public sealed record ObjectCheck(ObjectProblem Problem, string Detail)
{
    public static readonly ObjectCheck Passed = new(ObjectProblem.None, "");
}

/// <summary>
/// The report PDFs in S3: keys <c>{clinic}/{serial}/{uuid}.pdf</c>, chosen by the cloud and fresh for every upload;
/// presigned PUT URLs that fix the content type, the body's SHA-256 and "create, never overwrite"; presigned GET URLs
/// that make the browser save the file as a PDF; a full check of an object before it is recorded; direct puts for the
/// API's upload path.
/// </summary>
public sealed partial class ReportObjects : IDisposable
{
    // Clinic ids and serials are validated where they come from (registry, SerialNumber); the uuid is ours.
    [GeneratedRegex("^(?<clinic>[a-z0-9][a-z0-9-]{0,62})/(?<serial>[A-Za-z0-9-]{1,64})/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.pdf$")]
    private static partial Regex KeyFormat();

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

    /// <summary>
    /// A new key <c>{clinic}/{serial}/{uuid}.pdf</c>: never one a gateway or an earlier upload chose, so a PUT cannot land
    /// on another report's PDF, and the clinic prefix lets a bucket policy or lifecycle rule work per clinic.
    /// </summary>
    public static string NewKey(string clinicId, string serial) =>
        string.Create(CultureInfo.InvariantCulture, $"{clinicId}/{serial}/{Guid.NewGuid():D}.pdf");

    /// <summary>True when <paramref name="key"/> is one <see cref="NewKey"/> makes for this clinic and serial.</summary>
    public static bool IsKeyFor(string key, string clinicId, string serial) =>
        KeyFormat().Match(key) is { Success: true } m
        && m.Groups["clinic"].ValueSpan.SequenceEqual(clinicId)
        && m.Groups["serial"].ValueSpan.SequenceEqual(serial);

    /// <summary>The report's location as the device contract writes it: <c>s3://bucket/key</c>.</summary>
    public string S3Url(string key) => $"s3://{Bucket}/{key}";

    /// <summary>
    /// A URL that lets its holder PUT exactly this key until it expires, and nothing else: the signature covers
    /// <c>Content-Type: application/pdf</c> and the headers of <see cref="ReportUplink.PutHeaders"/>
    /// (this SHA-256, which S3 checks against the body, and <c>If-None-Match: *</c>, so S3 never overwrites).
    /// </summary>
    public async Task<(string Url, DateTimeOffset ExpiresAt)> PresignUploadAsync(string key, string sha256Hex)
    {
        var expires = _time.GetUtcNow().AddMinutes(_options.UploadUrlMinutes);
        var request = PresignRequest(key, HttpVerb.PUT, expires);
        request.ContentType = ReportUplink.PdfContentType;
        foreach (var (name, value) in ReportUplink.PutHeaders(sha256Hex))
        {
            request.Headers[name] = value;
        }

        return (await _client.GetPreSignedURLAsync(request), expires);
    }

    /// <summary>
    /// A URL that downloads this key until it expires, answered with <c>Content-Type: application/pdf</c> and
    /// <c>Content-Disposition: attachment</c> whatever the object's metadata says, so a browser saves it instead of
    /// rendering it in the API's origin.
    /// </summary>
    public async Task<(string Url, DateTimeOffset ExpiresAt)> PresignDownloadAsync(string key, string fileName)
    {
        var expires = _time.GetUtcNow().AddMinutes(_options.DownloadUrlMinutes);
        var request = PresignRequest(key, HttpVerb.GET, expires);
        request.ResponseHeaderOverrides.ContentType = ReportUplink.PdfContentType;
        request.ResponseHeaderOverrides.ContentDisposition = AttachmentDisposition(fileName);
        return (await _client.GetPreSignedURLAsync(request), expires);
    }

    /// <summary><c>attachment; filename="…"</c> for a report id (letters, digits, '-', '_': nothing to escape).</summary>
    public static string AttachmentDisposition(string fileName) => $"attachment; filename=\"{fileName}\"";

    /// <summary>
    /// Reads the whole object and checks it is the PDF a record announces: at most <paramref name="maxBytes"/> and
    /// exactly <paramref name="sizeBytes"/> long (checked before a byte is read), starting with <c>%PDF-</c>, with this
    /// SHA-256 and MD5. S3 checks the signed SHA-256 on upload; this check holds for any S3-compatible store, and for an
    /// object written some other way. Throws only when S3 cannot be reached.
    /// </summary>
    public async Task<ObjectCheck> VerifyAsync(string key, long sizeBytes, long maxBytes, string md5Hex, string sha256Hex, CancellationToken cancellationToken)
    {
        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = key }, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return new ObjectCheck(ObjectProblem.Missing, "no object");
        }

        using (response)
        {
            var length = response.ContentLength;
            if (length > maxBytes || length != sizeBytes)
            {
                return new ObjectCheck(ObjectProblem.Size, $"{length} bytes (announced {sizeBytes}, limit {maxBytes})");
            }

            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            var head = new byte[ReportUplink.PdfMagic.Length];
            long total = 0;
            int read;
            await using var body = response.ResponseStream;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (total < head.Length)
                {
                    buffer.AsSpan(0, (int)Math.Min(read, head.Length - total)).CopyTo(head.AsSpan((int)total));
                }

                total += read;
                if (total > sizeBytes)
                {
                    return new ObjectCheck(ObjectProblem.Size, $"more than the announced {sizeBytes} bytes");
                }

                md5.AppendData(buffer, 0, read);
                sha256.AppendData(buffer, 0, read);
            }

            if (total != sizeBytes)
            {
                return new ObjectCheck(ObjectProblem.Size, $"{total} bytes (announced {sizeBytes})");
            }

            if (!head.AsSpan().SequenceEqual(ReportUplink.PdfMagic))
            {
                return new ObjectCheck(ObjectProblem.NotPdf, "bytes that do not start with %PDF- (not a PDF)");
            }

            var actualSha = Convert.ToHexStringLower(sha256.GetHashAndReset());
            var actualMd5 = Convert.ToHexStringLower(md5.GetHashAndReset());
            if (actualSha != sha256Hex || actualMd5 != md5Hex)
            {
                return new ObjectCheck(ObjectProblem.Checksum, $"a PDF with SHA-256 {actualSha} and MD5 {actualMd5}, not the announced sha256 {sha256Hex} and md5 {md5Hex}");
            }

            return ObjectCheck.Passed;
        }
    }

    /// <summary>The object for the API to stream, with its length and MD5; null when the key holds nothing.</summary>
    public async Task<(Stream Body, long Length, string? Md5)?> OpenAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = key }, cancellationToken);
            return (response.ResponseStream, response.ContentLength, Md5OfETag(response.ETag));
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
        }, cancellationToken);
        return Md5OfETag(response.ETag);
    }

    /// <summary>Puts any object of the bucket (the FHIR bulk export's NDJSON files) with its content type.</summary>
    public async Task PutObjectAsync(string key, Stream content, string contentType, CancellationToken cancellationToken) =>
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = Bucket,
            Key = key,
            InputStream = content,
            AutoCloseStream = false,
            ContentType = contentType,
            UseChunkEncoding = false,
        }, cancellationToken);

    /// <summary>Deletes an object of the bucket (a cancelled FHIR export's files); a key that is not there is no error (S3 answers 204).</summary>
    public async Task DeleteObjectAsync(string key, CancellationToken cancellationToken) =>
        await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key }, cancellationToken);

    /// <summary>A URL that downloads <paramref name="key"/> for <paramref name="lifetime"/>, answered with <paramref name="contentType"/>.</summary>
    public async Task<(string Url, DateTimeOffset ExpiresAt)> PresignGetAsync(string key, string contentType, TimeSpan lifetime)
    {
        var expires = _time.GetUtcNow().Add(lifetime);
        var request = PresignRequest(key, HttpVerb.GET, expires);
        request.ResponseHeaderOverrides.ContentType = contentType;
        return (await _client.GetPreSignedURLAsync(request), expires);
    }

    public void Dispose() => _client.Dispose();

    /// <summary>A single PUT's ETag is the quoted hex MD5 of the body; a multipart ETag ("…-N") is not, and gives null.</summary>
    public static string? Md5OfETag(string? etag)
    {
        var value = etag?.Trim('"').ToLowerInvariant();
        return value is { Length: 32 } && value.All(char.IsAsciiHexDigit) ? value : null;
    }

    /// <summary>A presigned request for <paramref name="key"/> of this bucket, valid until <paramref name="expires"/>.</summary>
    private GetPreSignedUrlRequest PresignRequest(string key, HttpVerb verb, DateTimeOffset expires) => new()
    {
        BucketName = Bucket,
        Key = key,
        Verb = verb,
        Expires = expires.UtcDateTime,
        Protocol = Protocol(),
    };

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
