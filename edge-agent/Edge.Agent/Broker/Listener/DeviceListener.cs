using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Formatter;
using MQTTnet.Implementations;
using MQTTnet.Server;

namespace Edge.Agent.Broker.Listener;

/// <summary>
/// The device broker's TCP and TLS listeners, in place of MQTTnet's own, so that a hostile client on the clinic LAN
/// is bounded before it authenticates: sockets are admitted under <see cref="ConnectionLimits"/>, a TLS handshake and
/// the CONNECT packet must arrive within <see cref="BrokerOptions.ConnectTimeoutSeconds"/>, and every packet's
/// announced length is checked before MQTTnet allocates for it (<see cref="PacketLimitStream"/>). Everything after the
/// bytes is MQTTnet's: the listener hands each connection to the server as its own TCP listener would, through a
/// <see cref="DeviceChannelAdapter"/> that bounds topic aliases and unanswered packets and advertises the receive maximum
/// the journal can honour.
/// </summary>
internal sealed class DeviceListener(
    BrokerOptions options,
    int packetLimit,
    Func<X509Certificate2>? serverCertificate,
    RemoteCertificateValidationCallback? validateClient,
    ConnectionLimits limits,
    ListenerMetrics metrics,
    RefusalLimiter refusals,
    TimeProvider time,
    ILogger logger) : IMqttServerAdapter
{
    /// <summary>
    /// The most a packet may announce before the device has connected: a CONNECT carries a client id, a user name, a
    /// secret and a small last will, never more than a few hundred bytes from a real device.
    /// </summary>
    public const int ConnectMaxBytes = 16 * 1024;

    private readonly CancellationTokenSource _stopping = new();
    private readonly List<TcpListener> _listeners = [];
    private readonly List<Task> _acceptLoops = [];
    private IMqttNetLogger _mqttLogger = MqttNetNullLogger.Instance;
    private MqttServerOptions? _serverOptions;

    public Func<IMqttChannelAdapter, Task>? ClientHandler { get; set; }

    public Task StartAsync(MqttServerOptions serverOptions, IMqttNetLogger mqttLogger)
    {
        _serverOptions = serverOptions;
        _mqttLogger = mqttLogger;
        var address = IPAddress.Parse(options.BindAddress);
        if (options.Port > 0)
        {
            Listen(new IPEndPoint(address, options.Port), tls: false);
        }
        if (serverCertificate is not null)
        {
            Listen(new IPEndPoint(address, options.Tls.Port), tls: true);
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync()
    {
        await _stopping.CancelAsync();
        foreach (var listener in _listeners)
        {
            listener.Stop();
        }
        await Task.WhenAll(_acceptLoops);
    }

    public void Dispose()
    {
        _stopping.Cancel();
        foreach (var listener in _listeners)
        {
            listener.Dispose();
        }
        _stopping.Dispose();
    }

    private void Listen(IPEndPoint endpoint, bool tls)
    {
        var listener = new TcpListener(endpoint);
        // ReuseAddress: a restart after a crash must not wait for TIME_WAIT before devices can reconnect.
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start(backlog: 128);
        _listeners.Add(listener);
        _acceptLoops.Add(AcceptAsync(listener, tls, _stopping.Token));
    }

    private async Task AcceptAsync(TcpListener listener, bool tls, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                // A connection reset between SYN and accept, or the listener being stopped: keep accepting.
                Log.ListenerAcceptFailed(logger, ex.SocketErrorCode.ToString());
                continue;
            }

            // One task per connection (not per message): the connection's whole life runs in it.
            _ = Task.Run(() => HandleAsync(socket, tls, cancellationToken), CancellationToken.None);
        }
    }

    private async Task HandleAsync(Socket socket, bool tls, CancellationToken cancellationToken)
    {
        var remote = socket.RemoteEndPoint as IPEndPoint;
        var address = remote?.Address ?? IPAddress.None;
        var refusal = limits.TryAdmit(address);
        if (refusal is not null)
        {
            metrics.RecordClosed(refusal);
            Log.ListenerRefused(logger, remote?.ToString() ?? "?", refusal);
            socket.Dispose();
            return;
        }

        var connectArrived = 0;
        Stream? stream = null;
        try
        {
            socket.NoDelay = true;
            stream = new NetworkStream(socket, ownsSocket: true);
            var clientCertificate = (X509Certificate2?)null;
            if (tls)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false, validateClient);
                stream = ssl;
                using var handshakeDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                handshakeDeadline.CancelAfter(TimeSpan.FromSeconds(options.ConnectTimeoutSeconds));
                try
                {
                    await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                    {
                        ServerCertificate = serverCertificate!(), // read per connection: a renewal applies without a restart
                        // Asks for a device certificate when a device CA is configured; the callback accepts none (secret login).
                        ClientCertificateRequired = validateClient is not null,
                        EncryptionPolicy = EncryptionPolicy.RequireEncryption,
                        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    }, handshakeDeadline.Token);
                }
                catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
                {
                    metrics.RecordClosed(ListenerMetrics.TlsFailed);
                    Log.ListenerClosed(logger, remote?.ToString() ?? "?", ListenerMetrics.TlsFailed, ex.Message);
                    return;
                }
                clientCertificate = ssl.RemoteCertificate as X509Certificate2
                    ?? (ssl.RemoteCertificate is { } other ? X509CertificateLoader.LoadCertificate(other.Export(X509ContentType.Cert)) : null);
            }

            var limited = new PacketLimitStream(stream, ConnectMaxBytes, packetLimit);
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var watch = WatchConnectDeadlineAsync(limited, socket, () => Interlocked.Exchange(ref connectArrived, 1), ended.Token);
            if (ClientHandler is { } handler && _serverOptions is { } serverOptions)
            {
                var channel = new MqttTcpChannel(limited, socket.LocalEndPoint!, remote!, clientCertificate);
                var formatter = new MqttPacketFormatterAdapter(new MqttBufferWriter(serverOptions.WriterBufferSize, serverOptions.WriterBufferSizeMax));
                using var adapter = new DeviceChannelAdapter(
                    new MqttChannelAdapter(channel, formatter, _mqttLogger), options.MaxTopicAliases, options.ReceiveMaximum, refusals);
                await handler(adapter);
                if (adapter.Closed is { } closed)
                {
                    metrics.RecordClosed(closed.Code);
                    Log.ListenerClosed(logger, remote?.ToString() ?? "?", closed.Code, closed.Reason);
                }
            }

            await ended.CancelAsync();
            if (await watch is { } timedOut)
            {
                metrics.RecordClosed(timedOut);
                Log.ListenerClosed(logger, remote?.ToString() ?? "?", timedOut, $"no CONNECT within {options.ConnectTimeoutSeconds} s (Agent:Broker:ConnectTimeoutSeconds)");
            }
            else if (limited.Refusal is { } reason)
            {
                var code = reason.Contains("not CONNECT", StringComparison.Ordinal) ? ListenerMetrics.NotConnect : ListenerMetrics.PacketTooLarge;
                metrics.RecordClosed(code);
                Log.ListenerClosed(logger, remote?.ToString() ?? "?", code, reason);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The device went away; MQTTnet has already seen the end of its connection.
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync();
            }
            else
            {
                socket.Dispose();
            }
            limits.Closed(address, wasPending: Volatile.Read(ref connectArrived) == 0);
        }
    }

    /// <summary>
    /// Closes the socket unless its CONNECT arrives within the deadline; returns the close reason, or null when the
    /// CONNECT arrived or the connection ended first (<paramref name="ended"/>).
    /// </summary>
    private async Task<string?> WatchConnectDeadlineAsync(PacketLimitStream stream, Socket socket, Action arrived, CancellationToken ended)
    {
        var expiry = Task.Delay(TimeSpan.FromSeconds(options.ConnectTimeoutSeconds), time, ended);
        if (await Task.WhenAny(stream.ConnectArrived, expiry) == stream.ConnectArrived)
        {
            arrived();
            limits.ConnectArrived();
            return null;
        }
        if (expiry.IsCanceled)
        {
            return null;
        }

        // MQTTnet is still waiting for the CONNECT's bytes; closing the socket ends its read.
        socket.Close();
        return ListenerMetrics.ConnectTimeout;
    }
}
