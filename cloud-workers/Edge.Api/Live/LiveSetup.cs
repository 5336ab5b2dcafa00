namespace Edge.Api.Live;

/// <summary>Registers the live hub: one LISTEN connection that fans stored readings out to the WebSocket streams.</summary>
internal static class LiveSetup
{
    public static void AddLive(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<LiveHub>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LiveHub>());
    }
}
