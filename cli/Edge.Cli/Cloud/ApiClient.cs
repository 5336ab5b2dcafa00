using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Edge.Cli.Admin;

namespace Edge.Cli.Cloud;

/// <summary>
/// The cloud API over HTTP with the session's bearer token. Every failure becomes an <see cref="EdgectlException"/>
/// that says what happened: unreachable (3), refused (4), 401 (5: log in again), 403 (6: the role may not).
/// </summary>
internal sealed class ApiClient : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    readonly HttpClient _http;

    public ApiClient(CloudSession session)
    {
        Session = session;
        _http = new HttpClient { BaseAddress = session.ApiUrl, Timeout = DefaultTimeout };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", session.Token);
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("edgectl", typeof(ApiClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
    }

    public CloudSession Session { get; }

    /// <summary>
    /// Up to <paramref name="wanted"/> items of a keyset-paged list, following its cursors: <paramref name="path"/> has no
    /// query of its own, <paramref name="filters"/> is <c>&amp;name=value</c> pairs (<see cref="Filter"/>).
    /// </summary>
    public async Task<List<T>> GetPagesAsync<T>(
        string path, string filters, int wanted, JsonTypeInfo<CloudPage<T>> type, string action, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        string? cursor = null;
        do
        {
            var page = await GetAsync($"{path}?limit={Math.Min(500, wanted - items.Count)}{filters}{Filter("cursor", cursor)}", type, action, cancellationToken);
            items.AddRange(page.Items);
            cursor = page.NextCursor;
        }
        while (cursor is not null && items.Count < wanted);
        return items;
    }

    /// <summary>One <c>&amp;name=value</c> query pair, escaped; nothing for a null value.</summary>
    public static string Filter(string name, string? value) => value is null ? "" : $"&{name}={Uri.EscapeDataString(value)}";

    public async Task<T> GetAsync<T>(string path, JsonTypeInfo<T> type, string action, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        return await SendAsync(request, type, action, cancellationToken);
    }

    public async Task<T> PostAsync<TBody, T>(string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<T> type, string action, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, bodyType) };
        return await SendAsync(request, type, action, cancellationToken);
    }

    public async Task<T> PatchAsync<TBody, T>(string path, TBody body, JsonTypeInfo<TBody> bodyType, JsonTypeInfo<T> type, string action, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, path) { Content = JsonContent.Create(body, bodyType) };
        return await SendAsync(request, type, action, cancellationToken);
    }

    /// <summary>A POST whose success has no body (204).</summary>
    public async Task PostNoContentAsync<TBody>(string path, TBody body, JsonTypeInfo<TBody> bodyType, string action, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, bodyType) };
        using var response = await SendRawAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw Failure(Session.ApiUrl, response.StatusCode, await AdminProblem.ReadAsync(response, cancellationToken), action);
        }
    }

    /// <summary>PUT of a JSON document the caller already has as bytes (a config file, sent as written).</summary>
    public async Task<T> PutJsonAsync<T>(string path, byte[] json, JsonTypeInfo<T> type, string action, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = content };
        return await SendAsync(request, type, action, cancellationToken);
    }

    public async Task<T> PostAsync<T>(string path, JsonTypeInfo<T> type, string action, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
        return await SendAsync(request, type, action, cancellationToken);
    }

    /// <summary>The failure for an answer that is not a success, shared with the WebSocket upgrade (telemetry tail).</summary>
    public static EdgectlException Failure(Uri api, HttpStatusCode status, AdminProblem problem, string action)
    {
        var detail = string.IsNullOrWhiteSpace(problem.Detail) ? "" : $": {problem.Detail.TrimEnd('.')}";
        return status switch
        {
            HttpStatusCode.Unauthorized => new EdgectlException(
                $"the API at {api} refused the token (401 Unauthorized{detail}): it is missing, expired or not for this API. Log in again: edgectl login --api {api}",
                ExitCodes.Unauthenticated),
            HttpStatusCode.Forbidden => new EdgectlException(
                $"the API refused to {action} (403 Forbidden{detail}): the token's role or clinics do not allow it.",
                ExitCodes.Forbidden),
            _ => new EdgectlException($"the API could not {action}: {problem.Title.TrimEnd('.')}{detail} [HTTP {(int)status}].", ExitCodes.Refused),
        };
    }

    public static EdgectlException Unreachable(Uri api, Exception ex) => new(
        $"cannot reach the API at {api} ({ex.GetBaseException().Message.TrimEnd('.')}). Is it running? Check --api or {ApiOption.UrlVariable}.",
        ExitCodes.Unreachable,
        ex);

    public void Dispose() => _http.Dispose();

    async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(Session.ApiUrl, ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new EdgectlException($"the API at {Session.ApiUrl} did not answer within {DefaultTimeout.TotalSeconds:0} s.", ExitCodes.Unreachable, ex);
        }
    }

    async Task<T> SendAsync<T>(HttpRequestMessage request, JsonTypeInfo<T> type, string action, CancellationToken cancellationToken)
    {
        var response = await SendRawAsync(request, cancellationToken);
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw Failure(Session.ApiUrl, response.StatusCode, await AdminProblem.ReadAsync(response, cancellationToken), action);
            }

            try
            {
                return await response.Content.ReadFromJsonAsync(type, cancellationToken) ?? throw new JsonException("the body was empty (null).");
            }
            catch (JsonException ex)
            {
                throw new EdgectlException(
                    $"the API's answer to {request.Method} /{request.RequestUri} could not be read ({ex.Message}). Is {Session.ApiUrl} a Clinic Edge API of this version?",
                    ExitCodes.Failed,
                    ex);
            }
        }
    }
}
