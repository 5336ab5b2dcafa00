using System.Net.Http.Json;
using System.Net.Sockets;
using Edge.Contracts.Admin;

namespace Edge.Testing.Agent;

/// <summary>A plain HttpClient over the agent's admin Unix socket (tests talk to the real socket).</summary>
public static class AdminHttp
{
    public static HttpClient Create(string socketPath) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    {
        BaseAddress = new Uri("http://localhost/"),
        Timeout = TimeSpan.FromSeconds(30),
    };

    public static async Task<string> AddDeviceAsync(this HttpClient admin, string serial)
    {
        using var response = await admin.PostAsJsonAsync("v1/devices", new AddDeviceRequest(serial), AdminJsonContext.Default.AddDeviceRequest);
        response.EnsureSuccessStatusCode();
        var secret = await response.Content.ReadFromJsonAsync(AdminJsonContext.Default.DeviceSecret);
        return secret!.Secret;
    }

    public static async Task<AgentStatus> StatusAsync(this HttpClient admin) =>
        (await admin.GetFromJsonAsync("v1/status", AdminJsonContext.Default.AgentStatus))!;
}
