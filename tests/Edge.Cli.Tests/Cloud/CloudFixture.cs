using System.Net.Http.Json;
using Edge.Cli.Tests.Infrastructure;
using Edge.Testing.Api;
using Edge.Testing.Postgres;

namespace Edge.Cli.Tests.Cloud;

[CollectionDefinition(PostgresServer.Collection)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>;

/// <summary>
/// Base of the cloud command tests: a fresh database, the real API on a loopback port (with a gateway CA), a clinic
/// "north", and an edgectl whose config directory is a temporary one.
/// </summary>
public abstract class CloudTest(PostgresServer server) : IAsyncLifetime
{
    static int s_databases;

    protected TempDirectory Home { get; } = new();

    /// <summary>The gateway CA the API signs with.</summary>
    protected DevelopmentCa Ca { get; private set; } = null!;

    /// <summary>The CA of the broker's own certificate, which the API hands to gateways.</summary>
    protected DevelopmentCa BrokerCa { get; private set; } = null!;

    protected InProcessApi Api { get; private set; } = null!;

    protected string ConnectionString { get; private set; } = string.Empty;

    protected string ApiUrl => Api.BaseAddress.ToString();

    /// <summary>edgectl with nothing stored and no EDGE_* environment.</summary>
    internal EdgectlProcess Edgectl => new(Home.File("config"));

    /// <summary>edgectl with a technician's token for north in EDGE_TOKEN and the API in EDGE_API_URL.</summary>
    internal EdgectlProcess Technician => Edgectl.With("EDGE_API_URL", ApiUrl).With("EDGE_TOKEN", Api.Token("technician", "north"));

    public virtual async Task InitializeAsync()
    {
        var name = $"cli_{GetType().Name.ToLowerInvariant()}_{Interlocked.Increment(ref s_databases)}";
        ConnectionString = await server.CreateDatabaseAsync(name);
        Ca = new DevelopmentCa(Home.File("ca"), "Clinic Edge test gateway CA");
        BrokerCa = new DevelopmentCa(Home.File("broker-ca"), "Clinic Edge test cloud CA");
        Api = await InProcessApi.StartAsync(ConnectionString,
            $"--Api:GatewayCa:CertificatePath={Ca.CaPath}", $"--Api:GatewayCa:KeyPath={Ca.CaKeyPath}", $"--Api:GatewayCa:BrokerCaPath={BrokerCa.CaPath}");
        var response = await Api.As("admin").PostAsJsonAsync("/v1/clinics", new { id = "north", name = "North clinic" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public virtual async Task DisposeAsync()
    {
        await Api.DisposeAsync();
        Ca.Dispose();
        BrokerCa.Dispose();
        Home.Dispose();
    }
}
