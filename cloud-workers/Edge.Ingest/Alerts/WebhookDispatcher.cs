using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Edge.Ingest.Metrics;
using Edge.Storage.Alerts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Edge.Ingest.Alerts;

/// <summary>
/// Sends queued alert deliveries to their webhook subscriptions, signed, with persistent retries and a dead-letter
/// state. Every worker replica runs one; they share the queue in PostgreSQL (<see cref="WebhookDeliveries"/>), and a
/// lease keeps two replicas from sending the same delivery at the same time.
/// </summary>
/// <remarks>
/// Retries are not a Polly pipeline on purpose: the schedule must survive a restart and be picked up by whichever
/// replica is alive, so it lives in the delivery row (<c>next_attempt_at</c>), and this loop only sends what is due.
/// Delivery is at least once: a replica that dies after the receiver answered but before it recorded the answer
/// leaves the delivery to be sent again, so receivers de-duplicate on <c>X-Edge-Webhook-Id</c>.
/// </remarks>
internal sealed class WebhookDispatcher(
    WebhookDeliveries deliveries,
    IHttpClientFactory httpClients,
    IOptions<WebhookOptions> options,
    WorkerMetrics metrics,
    TimeProvider time,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    /// <summary>The named HttpClient (see <see cref="WebhookServiceCollectionExtensions.AddWebhookHttpClient"/>).</summary>
    public const string HttpClientName = "webhooks";

    // What a receiver answered, kept in last_error: enough to tell "invalid signature" from a proxy's error page.
    private const int MaxBodyInError = 200;

    private static readonly ProductInfoHeaderValue UserAgent = new("clinic-edge-webhooks", "1");

    private readonly WebhookOptions _options = options.Value;

    /// <summary>How long a claimed delivery stays away from other replicas: the attempt's timeout plus time to record the outcome.</summary>
    internal TimeSpan Lease => TimeSpan.FromSeconds(_options.TimeoutSeconds + 60);

    /// <summary>Claims the deliveries due now (at most <see cref="WebhookOptions.MaxConcurrency"/>), sends them at once, records each outcome; returns how many it claimed.</summary>
    public async Task<int> DispatchDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var claimed = await deliveries.ClaimDueAsync(_options.MaxConcurrency, now, now + Lease, cancellationToken);
        if (claimed.Count == 0)
        {
            return 0;
        }

        var attempts = new Task[claimed.Count];
        for (var i = 0; i < claimed.Count; i++)
        {
            attempts[i] = AttemptAsync(claimed[i], cancellationToken);
        }
        await Task.WhenAll(attempts);
        return claimed.Count;
    }

    /// <summary>The delay before the attempt after failed attempt <paramref name="attempt"/> (1-based): base × 2^(attempt-1), capped, then 50-100 % of that.</summary>
    /// <remarks>
    /// The jitter spreads out the retries of many deliveries that failed together (one receiver down, many alerts), and
    /// keeping half of the delay fixed means no retry comes right back at a receiver that is still down.
    /// </remarks>
    internal static TimeSpan Backoff(int attempt, TimeSpan baseDelay, TimeSpan cap, double random)
    {
        var exponential = baseDelay.TotalSeconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 62));
        var capped = Math.Min(exponential, cap.TotalSeconds);
        return TimeSpan.FromSeconds((capped / 2) + (capped / 2 * Math.Clamp(random, 0, 1)));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var poll = TimeSpan.FromMilliseconds(_options.PollIntervalMilliseconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                claimed = await DispatchDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The queue is in PostgreSQL: a restart or failover is waited out here; nothing is lost meanwhile.
                Log.WebhookQueueFailed(logger, poll.TotalSeconds, ex);
            }

            if (claimed == _options.MaxConcurrency)
            {
                continue; // more may be due right now
            }

            try
            {
                await Task.Delay(poll, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task AttemptAsync(ClaimedDelivery delivery, CancellationToken stoppingToken)
    {
        var endpoint = WebhookSubscriptions.Endpoint(delivery.Url);
        var body = JsonSerializer.SerializeToUtf8Bytes(
            new WebhookEvent(WebhookEvent.AlertRaised, delivery.Id, delivery.Attempt, delivery.Alert), AlertJsonContext.Default.WebhookEvent);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();

        int? statusCode = null;
        string error;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.UserAgent.Add(UserAgent);
            request.Headers.Add(WebhookSignature.IdHeader, delivery.Id.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Compute(delivery.Secret, timestamp, body));

            // Wall-clock timeout, not the TimeProvider: it bounds a real network wait.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(_options.TimeoutSeconds));
            using var response = await httpClients.CreateClient(HttpClientName)
                .SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            statusCode = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                await deliveries.MarkDeliveredAsync(delivery, statusCode.Value, time.GetUtcNow(), CancellationToken.None);
                metrics.WebhookAttempt(WorkerMetrics.Delivered);
                Log.WebhookDelivered(logger, delivery.Id, delivery.Alert.Id, delivery.Attempt, endpoint, statusCode.Value);
                return;
            }

            error = $"HTTP {statusCode} {response.ReasonPhrase}".TrimEnd();
            if (statusCode is >= 300 and < 400)
            {
                // Following a redirect would send a signed alert to a URL nobody subscribed (and maybe over plain http).
                error += "; redirects are not followed, subscribe the final URL";
            }
            else
            {
                var excerpt = await ExcerptAsync(response, timeout.Token);
                if (excerpt.Length > 0)
                {
                    error += ": " + excerpt;
                }
            }
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            error = $"no answer within {_options.TimeoutSeconds} s";
        }
        catch (HttpRequestException ex)
        {
            error = ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message;
        }
        catch (OperationCanceledException)
        {
            // Stopping: the lease runs out and a live replica makes the next attempt.
            return;
        }

        var dead = delivery.Attempt >= _options.MaxAttempts;
        var next = dead
            ? time.GetUtcNow()
            : time.GetUtcNow() + Backoff(delivery.Attempt, TimeSpan.FromSeconds(_options.BackoffBaseSeconds), TimeSpan.FromSeconds(_options.BackoffCapSeconds), Random.Shared.NextDouble());
        await deliveries.MarkFailedAsync(delivery, statusCode, error, dead, next, CancellationToken.None);
        metrics.WebhookAttempt(dead ? WorkerMetrics.Dead : WorkerMetrics.Failed);
        if (dead)
        {
            Log.WebhookDead(logger, delivery.Id, endpoint, delivery.Attempt, error);
        }
        else
        {
            Log.WebhookFailed(logger, delivery.Id, endpoint, delivery.Attempt, _options.MaxAttempts, error, next);
        }
    }

    private static async Task<string> ExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var buffer = new byte[MaxBodyInError * 4];
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            await using (stream)
            {
                var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
                var text = Encoding.UTF8.GetString(buffer, 0, read);
                var builder = new StringBuilder(Math.Min(text.Length, MaxBodyInError));
                foreach (var c in text)
                {
                    if (builder.Length == MaxBodyInError)
                    {
                        break;
                    }
                    builder.Append(char.IsControl(c) ? ' ' : c);
                }
                return builder.ToString().Trim();
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or OperationCanceledException)
        {
            return string.Empty; // the status code is the answer; the body was a courtesy
        }
    }
}
