using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Edge.Agent.Journal;
using Edge.Agent.Uplink;
using Edge.Contracts.Reports;
using Edge.Contracts.Uplink;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Edge.Agent.Reports;

/// <summary>
/// Sends complete reports to the cloud, one at a time, oldest first. Gateways hold no S3 credentials, so per report:
/// ask for a presigned PUT URL (<c>uploads/request</c> → <c>uploads/response</c>), check that it points at
/// <see cref="ReportOptions.UploadEndpoint"/> (anything else is refused and counted: nothing is sent), PUT the PDF from
/// the journal with the signed headers (content type, SHA-256, If-None-Match; every attempt from the first byte; S3
/// keeps no half object), check that S3's ETag is the PDF's MD5, remember that it is uploaded and under which key, send
/// the metadata naming that key (<c>reports</c>), and delete the report from the journal only when the cloud answers
/// "recorded". A crash anywhere in between repeats the steps; a new upload gets a new key, and the record is idempotent.
/// </summary>
internal sealed class ReportUploader : IUplinkWorker, IDownlinkHandler, IDisposable
{
    private readonly ReadingJournal _journal;
    private readonly ReportSignal _signal;
    private readonly ReportOptions _options;
    private readonly UplinkState _state;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly ResiliencePipeline _putRetry;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ReportUploadResponse>> _waiting = new(StringComparer.Ordinal);

    public ReportUploader(ReadingJournal journal, ReportSignal signal, IOptions<ReportOptions> options, UplinkState state, TimeProvider time, ILogger<ReportUploader> logger)
    {
        _journal = journal;
        _signal = signal;
        _options = options.Value;
        _state = state;
        _time = time;
        _logger = logger;

        // Each attempt has its own deadline (UploadTimeoutSeconds); the client's own timeout would cut a slow, paced upload.
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        _putRetry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is HttpRequestException or IOException or UploadFailedException
                    or TaskCanceledException { InnerException: TimeoutException }),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromSeconds(1),
                MaxRetryAttempts = _options.UploadAttempts - 1,
                OnRetry = a =>
                {
                    Log.ReportUploadRetry(_logger, a.AttemptNumber + 1, a.Outcome.Exception?.Message ?? "", a.RetryDelay.TotalSeconds);
                    return default;
                },
            })
            .Build();
    }

    public UplinkTopicKind Kind => UplinkTopicKind.UploadResponse;

    /// <summary>An answer from the cloud: completes the request waiting for it; a "recorded" nobody waits for still frees the journal.</summary>
    public async ValueTask HandleAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var validated = ReportUplink.ReadResponse(payload.Span);
        if (!validated.IsValid)
        {
            Log.ReportResponseInvalid(_logger, validated.ErrorSummary());
            return;
        }

        var response = validated.Value!;
        if (_waiting.TryRemove(WaitKey(response.Serial, response.ReportId), out var waiter))
        {
            waiter.TrySetResult(response);
        }
        else if (response.Type == ReportUploadResponse.TypeRecorded)
        {
            // A late confirmation (we timed out and asked again, or restarted): persist before the PUBACK.
            await _journal.RemoveReportAsync(response.Serial, response.ReportId);
        }
    }

    public async Task RunAsync(IUplinkChannel channel, CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            await channel.WaitConnectedAsync(stoppingToken);
            var ready = _journal.ReadyReports(16);
            if (ready.Count == 0)
            {
                // The signal is the fast path; the timeout covers reports journaled before this agent started.
                await _signal.WaitAsync(TimeSpan.FromSeconds(30), stoppingToken);
                continue;
            }

            try
            {
                foreach (var report in ready)
                {
                    await SendAsync(channel, report, stoppingToken);
                }

                failures = 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                failures++;
                var delay = TimeSpan.FromSeconds(Math.Min(_options.MaxRetryDelaySeconds, Math.Pow(2, Math.Min(failures - 1, 12))));
                Log.ReportSendFailed(_logger, ex.Message, delay.TotalSeconds);
                await Task.Delay(delay, _time, stoppingToken);
            }
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task SendAsync(IUplinkChannel channel, JournaledReport report, CancellationToken cancellationToken)
    {
        var (md5, sha256) = await HashAsync(report, cancellationToken);
        var request = new ReportUploadRequest(report.Serial, report.ReportId, report.ReceivedAt, report.SizeBytes, md5, sha256);
        var key = report.UploadedKey;
        if (!report.Uploaded || key is null)
        {
            var answer = await AskAsync(channel, UplinkTopics.UploadRequest(channel.GatewayId), ReportUplink.Write(request), report, cancellationToken);
            if (await SettledAsync(answer, report))
            {
                return;
            }

            var url = CheckUploadUrl(answer, report);
            key = answer.Key!;
            Log.ReportUploading(_logger, report.ReportId, report.Serial, report.SizeBytes, key);
            await _putRetry.ExecuteAsync(async ct => await PutAsync(url, report, md5, sha256, ct), cancellationToken);
            await _journal.MarkReportUploadedAsync(report.Serial, report.ReportId, uploaded: true, key);
            Log.ReportUploaded(_logger, report.ReportId, key);
        }

        var record = new ReportRecordRequest(report.Serial, report.ReportId, report.ReceivedAt, report.SizeBytes, md5, sha256, ParseJson(report.Json), key);
        ReportUploadResponse recorded;
        try
        {
            recorded = await AskAsync(channel, UplinkTopics.Reports(channel.GatewayId), ReportUplink.Write(record), report, cancellationToken);
        }
        catch (UplinkMessageTooLargeException tooLarge)
        {
            // The report's JSON makes a record the broker cannot take; no retry can change that.
            Log.UplinkMessageTooLarge(_logger, $"the record of report {report.ReportId}", tooLarge.Message);
            await SetAsideAsync(report, UplinkMessageTooLargeException.DeadLetterCode, tooLarge.Message);
            return;
        }

        if (await SettledAsync(recorded, report))
        {
            return;
        }

        throw new UploadFailedException($"the cloud answered {recorded.Type} to the record of report {report.ReportId}");
    }

    // True when the answer ends this report's journey (recorded, or refused for good); throws when it should be tried again.
    private async Task<bool> SettledAsync(ReportUploadResponse answer, JournaledReport report)
    {
        switch (answer.Type)
        {
            case ReportUploadResponse.TypeRecorded:
                await _journal.RemoveReportAsync(report.Serial, report.ReportId);
                Log.ReportRecorded(_logger, report.ReportId, report.Serial, answer.Key ?? "?");
                return true;
            case ReportUploadResponse.TypeRejected when answer.Retry:
                await _journal.MarkReportUploadedAsync(report.Serial, report.ReportId, uploaded: false);
                throw new UploadFailedException($"the cloud asks to upload report {report.ReportId} again: {answer.Reason}");
            case ReportUploadResponse.TypeRejected:
                // Sending it again can never succeed: keep the reason and the JSON where a technician looks, free the quota.
                Log.ReportRejected(_logger, report.ReportId, report.Serial, answer.Reason ?? "");
                await SetAsideAsync(report, "CloudRejected", answer.Reason ?? "rejected by the cloud");
                return true;
            default:
                return false;
        }
    }

    // Keeps the reason and the JSON where a technician looks, and frees the quota.
    private async Task SetAsideAsync(JournaledReport report, string code, string reason)
    {
        _journal.AddDeadLetter(new DeadLetter(_time.GetUtcNow(), report.Serial, Contracts.Topics.DeviceTopics.Report(report.Serial), code, reason, report.Json));
        await _journal.RemoveReportAsync(report.Serial, report.ReportId);
    }

    private async Task<ReportUploadResponse> AskAsync(IUplinkChannel channel, string topic, byte[] message, JournaledReport report, CancellationToken cancellationToken)
    {
        var key = WaitKey(report.Serial, report.ReportId);
        var waiter = new TaskCompletionSource<ReportUploadResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[key] = waiter;
        try
        {
            await channel.PublishAsync(topic, message, UplinkPriority.Normal, cancellationToken);
            return await waiter.Task.WaitAsync(TimeSpan.FromSeconds(_options.ResponseTimeoutSeconds), _time, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new UploadFailedException($"no answer from the cloud about report {report.ReportId} within {_options.ResponseTimeoutSeconds} s");
        }
        finally
        {
            _waiting.TryRemove(new KeyValuePair<string, TaskCompletionSource<ReportUploadResponse>>(key, waiter));
        }
    }

    // The answer names where the PDF goes; only the configured S3 endpoint is trusted with it. Whoever can publish on
    // uploads/response (a worker's credentials, a confused worker) must not be able to send a patient's PDF elsewhere.
    private Uri CheckUploadUrl(ReportUploadResponse answer, JournaledReport report)
    {
        string? reason = null;
        if (!Uri.TryCreate(answer.Url, UriKind.Absolute, out var url))
        {
            reason = "url: not an absolute URL";
        }
        else if (_options.UploadEndpoint is null)
        {
            reason = "Agent:Reports:UploadEndpoint is not set, so no upload URL is trusted";
        }
        else if (!_options.IsUploadEndpoint(url))
        {
            reason = $"url: scheme, host and port must be Agent:Reports:UploadEndpoint ({_options.UploadEndpoint})";
        }
        else if (string.IsNullOrEmpty(answer.Key))
        {
            reason = "key: an upload answer must name the key";
        }

        if (reason is null)
        {
            return url!;
        }

        // Logged without the query: a presigned URL's signature is a credential for that key.
        var shown = url is null ? "(invalid)" : url.GetLeftPart(UriPartial.Path);
        Log.ReportUploadUrlRefused(_logger, report.ReportId, shown, reason);
        _state.RecordUploadUrlRefused();
        throw new UploadFailedException($"refused the upload URL for report {report.ReportId}: {reason}");
    }

    private async Task PutAsync(Uri url, JournaledReport report, string md5, string sha256, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(_options.UploadTimeoutSeconds));
        await using var pdf = _journal.OpenReportPdf(report);
        await using var paced = new PacedStream(pdf, _options.UploadBytesPerSecond, _time);
        using var content = new StreamContent(paced, 81920);
        content.Headers.ContentLength = report.SizeBytes;
        content.Headers.ContentType = new MediaTypeHeaderValue(ReportUplink.PdfContentType);
        using var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = content };
        foreach (var (name, value) in ReportUplink.PutHeaders(sha256))
        {
            put.Headers.TryAddWithoutValidation(name, value);
        }

        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(put, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UploadFailedException($"the upload of report {report.ReportId} took longer than {_options.UploadTimeoutSeconds} s");
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                throw new UploadFailedException($"S3 answered {(int)response.StatusCode} to the upload of report {report.ReportId}: {body[..Math.Min(body.Length, 300)]}");
            }

            // A single PUT's ETag is the MD5 of what S3 stored: anything else means the bytes changed on the way.
            var etag = response.Headers.ETag?.Tag.Trim('"').ToLowerInvariant();
            if (etag != md5)
            {
                throw new UploadFailedException($"S3 stored report {report.ReportId} with ETag {etag ?? "none"}, not its MD5 {md5}");
            }
        }
    }

    private async Task<(string Md5, string Sha256)> HashAsync(JournaledReport report, CancellationToken cancellationToken)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var pdf = _journal.OpenReportPdf(report);
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await pdf.ReadAsync(buffer, cancellationToken)) > 0)
        {
            md5.AppendData(buffer, 0, read);
            sha256.AppendData(buffer, 0, read);
            total += read;
        }

        if (total != report.SizeBytes)
        {
            throw new InvalidOperationException($"report {report.ReportId}: the journal holds {total} PDF bytes, its index says {report.SizeBytes}");
        }

        return (Convert.ToHexStringLower(md5.GetHashAndReset()), Convert.ToHexStringLower(sha256.GetHashAndReset()));
    }

    private static System.Text.Json.JsonElement ParseJson(byte[] json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static string WaitKey(string serial, string reportId) => string.Create(CultureInfo.InvariantCulture, $"{serial}/{reportId}");

    /// <summary>An upload round failed in a way that another round may fix (network, S3, checksum, no answer).</summary>
    private sealed class UploadFailedException(string message) : Exception(message);
}
