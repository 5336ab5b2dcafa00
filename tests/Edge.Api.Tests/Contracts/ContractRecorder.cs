using System.Collections.Concurrent;
using System.Net.Http.Headers;

namespace Edge.Api.Tests.Contracts;

/// <summary>
/// A client-side handler that checks every exchange against <see cref="OpenApiContract"/> as it passes: the request
/// (when the API accepted it) and the response. It records which operations were exercised with which statuses, and
/// every disagreement, naming the request.
/// </summary>
internal sealed class ContractRecorder : DelegatingHandler
{
    private readonly OpenApiContract _contract;
    private readonly ConcurrentQueue<string> _violations;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<int, byte>> _statuses;

    public ContractRecorder(OpenApiContract contract)
        : base(new SocketsHttpHandler())
    {
        _contract = contract;
        _violations = new();
        _statuses = new(StringComparer.Ordinal);
    }

    /// <summary>Another transport (TLS with a client certificate), recording into the same log as <paramref name="log"/>.</summary>
    public ContractRecorder(ContractRecorder log, HttpMessageHandler transport)
        : base(transport)
    {
        _contract = log._contract;
        _violations = log._violations;
        _statuses = log._statuses;
    }

    public IReadOnlyCollection<string> Violations => _violations;

    /// <summary>The statuses each operation answered, by <see cref="OpenApiContract.Operation.Key"/>.</summary>
    public IReadOnlyDictionary<string, IReadOnlyCollection<int>> Statuses =>
        _statuses.ToDictionary(s => s.Key, s => (IReadOnlyCollection<int>)s.Value.Keys.Order().ToList(), StringComparer.Ordinal);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var requestBody = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var requestType = request.Content?.Headers.ContentType?.MediaType;
        var response = await base.SendAsync(request, cancellationToken);
        var status = (int)response.StatusCode;
        byte[] responseBody = [];
        if (status != 101)
        {
            // Buffered, so the test still reads the body after the check.
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            responseBody = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        }

        var uri = request.RequestUri!;
        var name = $"{request.Method} {uri.PathAndQuery}";
        var operation = _contract.Match(request.Method.Method, uri.AbsolutePath);
        if (operation is null)
        {
            _violations.Enqueue($"{name}: no operation in the document");
            return response;
        }
        _statuses.GetOrAdd(operation.Key, _ => new()).TryAdd(status, 0);

        var errors = new List<string>();
        if (status is >= 200 and < 300)
        {
            errors.AddRange(_contract.CheckAcceptedRequest(operation, Query(uri), requestType, requestBody));
        }
        errors.AddRange(_contract.CheckResponse(operation, status, MediaType(response.Content.Headers.ContentType), responseBody));
        foreach (var error in errors)
        {
            _violations.Enqueue($"{name} ({operation.Key}) answered {status}: {error}");
        }
        return response;
    }

    private static string? MediaType(MediaTypeHeaderValue? type) => type?.MediaType;

    private static List<KeyValuePair<string, string>> Query(Uri uri)
    {
        var query = new List<KeyValuePair<string, string>>();
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            query.Add(new(key, value));
        }
        return query;
    }
}
