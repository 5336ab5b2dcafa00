using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Edge.Contracts.Admin;

namespace Edge.Cli.Admin;

/// <summary>
/// Talks to the agent's admin interface: HTTP over the Unix domain socket, one method per route
/// (see <c>Edge.Contracts.Admin</c>). Failures become <see cref="AgentUnreachableException"/>,
/// <see cref="AgentRefusedException"/> or an <see cref="EdgectlException"/> with a readable message.
/// </summary>
internal sealed class AgentAdminClient : IDisposable
{
    /// <summary>Long enough for the agent to hash a new device secret on a slow gateway; short enough for a technician.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    readonly HttpClient _http;

    public AgentAdminClient(string socketPath, TimeSpan? timeout = null)
    {
        SocketPath = socketPath;
        Timeout = timeout ?? DefaultTimeout;
        var handler = new SocketsHttpHandler { ConnectCallback = (_, cancellationToken) => ConnectAsync(socketPath, cancellationToken) };
        // The host name is never resolved (the socket is the connection); it only fills the Host header.
        _http = new HttpClient(handler, disposeHandler: true) { BaseAddress = new Uri("http://localhost/"), Timeout = Timeout };
    }

    public string SocketPath { get; }

    public TimeSpan Timeout { get; }

    public Task<AgentStatus> GetStatusAsync(CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Get, "v1/status", content: null, AdminJsonContext.Default.AgentStatus, "report its status", cancellationToken);

    /// <summary>The gateway's device CA (PEM), which devices must trust to connect over TLS.</summary>
    public async Task<string> GetDeviceCaAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/device-ca");
        using var response = await SendCoreAsync(request, "export its device CA", cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    /// <summary>The agent's metrics in the Prometheus text format, as it sent them.</summary>
    public async Task<string> GetMetricsTextAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/metrics");
        using var response = await SendCoreAsync(request, "report its metrics", cancellationToken);
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<DeviceCredentialInfo>> ListDevicesAsync(CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Get, "v1/devices", content: null, AdminJsonContext.Default.DeviceCredentialInfoArray, "list devices", cancellationToken);

    /// <summary>
    /// Creates a credential for a new serial, marked with who creates it (<see cref="CredentialOrigins"/>; the agent's
    /// default is operator); an existing one is a 409 <see cref="AgentRefusedException"/>.
    /// </summary>
    public Task<DeviceSecret> AddDeviceAsync(string serial, CancellationToken cancellationToken, string? origin = null) =>
        SendAsync(
            HttpMethod.Post,
            "v1/devices",
            JsonContent.Create(new AddDeviceRequest(serial, origin), AdminJsonContext.Default.AddDeviceRequest),
            AdminJsonContext.Default.DeviceSecret,
            $"add device {serial}",
            cancellationToken);

    /// <summary>
    /// Issues a new secret. With <paramref name="ifOrigin"/>, the agent rotates only a credential created by that origin
    /// and answers 409 otherwise.
    /// </summary>
    public Task<DeviceSecret> RotateDeviceAsync(string serial, CancellationToken cancellationToken, string? ifOrigin = null) =>
        SendAsync(
            HttpMethod.Post,
            $"v1/devices/{Uri.EscapeDataString(serial)}/rotate" + (ifOrigin is null ? "" : $"?ifOrigin={Uri.EscapeDataString(ifOrigin)}"),
            content: null,
            AdminJsonContext.Default.DeviceSecret,
            $"rotate the secret of device {serial}",
            cancellationToken);

    public async Task RemoveDeviceAsync(string serial, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, $"v1/devices/{Uri.EscapeDataString(serial)}");
        using var response = await SendCoreAsync(request, $"remove device {serial}", cancellationToken);
    }

    /// <summary>
    /// On-site config push: the agent versions it, publishes it to the device and reports it upstream, naming as its
    /// author the user the kernel says is on this end of the socket (nothing edgectl could claim).
    /// </summary>
    public Task<DeviceConfigInfo> PushConfigAsync(string serial, byte[] message, CancellationToken cancellationToken)
    {
        var content = new ByteArrayContent(message);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        return SendAsync(HttpMethod.Post, $"v1/devices/{Uri.EscapeDataString(serial)}/config", content, AdminJsonContext.Default.DeviceConfigInfo,
            $"push a config to {serial}", cancellationToken);
    }

    /// <summary>The newest dead letters first.</summary>
    public async Task<IReadOnlyList<DeadLetterInfo>> ListDeadLettersAsync(int limit, CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Get, $"v1/deadletters?limit={limit}", content: null, AdminJsonContext.Default.DeadLetterInfoArray, "list dead letters", cancellationToken);

    public void Dispose() => _http.Dispose();

    static async ValueTask<Stream> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    async Task<T> SendAsync<T>(
        HttpMethod method, string path, HttpContent? content, JsonTypeInfo<T> typeInfo, string action, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };

        using var response = await SendCoreAsync(request, action, cancellationToken);
        try
        {
            return await response.Content.ReadFromJsonAsync(typeInfo, cancellationToken)
                ?? throw new JsonException("the body was empty (null).");
        }
        catch (JsonException ex)
        {
            // Most likely an agent of another version; say so rather than print a serializer trace.
            throw new EdgectlException(
                $"the agent's answer to {method} /{path} could not be read ({ex.Message}). Are edgectl and edge-agent the same version?",
                ExitCodes.Failed,
                ex);
        }
    }

    async Task<HttpResponseMessage> SendCoreAsync(HttpRequestMessage request, string action, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            var (reason, hint) = DescribeConnectFailure(SocketPath, ex);
            throw new AgentUnreachableException(SocketPath, reason, ex, hint);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AgentUnreachableException(SocketPath, $"no answer within {Timeout.TotalSeconds:0} s", ex);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var problem = await AdminProblem.ReadAsync(response, cancellationToken);
            throw new AgentRefusedException(action, response.StatusCode, problem.Title, problem.Detail);
        }
    }

    static (string Reason, string? Hint) DescribeConnectFailure(string socketPath, HttpRequestException ex)
    {
        for (Exception? inner = ex; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                // First: a socket (or a directory on its path) this user may not open is not a missing one. Path.Exists
                // says false for both, which made a permission problem look like a stopped agent.
                case SocketException { SocketErrorCode: SocketError.AccessDenied }:
                    return ("Permission denied", AgentUnreachableException.PermissionHint);
                // .NET reports a missing socket file as "Cannot assign requested address"; say what it is.
                case SocketException when !Path.Exists(socketPath):
                    return ("No such file or directory", null);
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                    return ("Connection refused: the socket file exists but nothing listens on it, perhaps left by a stopped agent", null);
                case SocketException socketError:
                    return (socketError.Message, null);
                case ArgumentOutOfRangeException:
                    // UnixDomainSocketEndPoint rejects paths longer than sun_path (108 bytes on Linux).
                    return ("the path is too long for a Unix socket", null);
            }
        }

        return (ex.GetBaseException().Message, null);
    }
}
