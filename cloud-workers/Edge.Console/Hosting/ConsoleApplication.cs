using Edge.Console.Api;
using Edge.Hosting;
using Edge.Console.Components;
using Edge.Console.Sessions;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using MudBlazor.Services;

namespace Edge.Console.Hosting;

/// <summary>Composes the console: settings, Data Protection, sign-in, the API client, the components. Used by Program and the tests.</summary>
internal static class ConsoleApplication
{
    /// <summary>Environment variable naming the configuration file instead of /etc/edge-console/console.json.</summary>
    public const string ConfigFileVariable = "EDGE_CONSOLE_CONFIG";

    internal static readonly Dictionary<string, string?> Defaults = new()
    {
        ["Urls"] = "http://127.0.0.1:8090",
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
    };

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // The assembly's name, not the entry point's: the static assets manifests are named after it, also when a
            // test host runs the console in its own process.
            ApplicationName = typeof(ConsoleApplication).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        // Defaults < /etc/edge-console/console.json < environment < command line, as the API reads its settings.
        builder.Configuration.AddEdgeSettings(ConfigFileVariable, "/etc/edge-console/console.json", args, Defaults);
        // Static assets (MudBlazor's CSS and JS, blazor.web.js) come from the build output's manifest in every environment.
        builder.WebHost.UseStaticWebAssets();

        builder.Services.AddSystemd();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<ConsoleOptions>().BindConfiguration(ConsoleOptions.SectionName).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsoleOptions>, ConsoleOptionsValidator>());
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConsoleOptions>, ConsoleOptionsRules>());
        builder.Services.AddSingleton(sp => sp.GetRequiredService<IOptions<ConsoleOptions>>().Value);
        var options = builder.Configuration.GetSection(ConsoleOptions.SectionName).Get<ConsoleOptions>() ?? new ConsoleOptions();

        // Keys in a 0700 directory so the auth cookies and the stored sessions stay readable after a restart.
        builder.Services.AddDataProtection()
            .SetApplicationName("edge-console")
            .PersistKeysToFileSystem(new DirectoryInfo(StateDirectory.Ensure(Path.Combine(options.StateDirectory, "keys"))));

        builder.Services.AddSingleton<ApiTrust>();
        builder.Services.AddHttpClient<AuthApi>(ConfigureApi).ConfigurePrimaryHttpMessageHandler(TrustingHandler);
        builder.Services.AddHttpClient<ApiClient>(ConfigureApi).ConfigurePrimaryHttpMessageHandler(TrustingHandler);
        builder.Services.AddSingleton<SessionStore>();
        builder.Services.AddSingleton<OidcRefresher>();
        builder.Services.AddScoped<UserSession>();
        builder.Services.AddTransient<LiveReadings>();
        builder.Services.AddTransient<LiveAlerts>();

        builder.AddConsoleSignIn(options);
        builder.Services.AddScoped<AuthenticationStateProvider, SessionRevalidation>();
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddMudServices();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();

        var app = builder.Build();
        app.UseSecurityHeaders();
        // Plain answers, not a re-executed page: a re-executed POST would be a form post without its token again.
        app.UseExceptionHandler(handler => handler.Run(WriteErrorAsync));
        app.UseStatusCodePagesWithReExecute("/not-found");
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapGet("/healthz", () => TypedResults.Ok("ok")).AllowAnonymous();
        app.MapAccountEndpoints();
        app.MapReportPdfEndpoint();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        Log.Started(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Edge.Console"), options.ApiUrl ?? new Uri("http://unset"), options.StateDirectory);
        return app;
    }

    private static async Task WriteErrorAsync(HttpContext context)
    {
        var error = context.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>()?.Error;
        if (error is BadHttpRequestException bad)
        {
            // A form without its antiforgery token, or a malformed one: refused, not a failure of the console.
            context.Response.StatusCode = bad.StatusCode;
            await context.Response.WriteAsync("The request was refused: " + bad.Message, context.RequestAborted);
            return;
        }
        Log.RequestFailed(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Edge.Console"), context.Request.Method, context.Request.Path, error);
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        await context.Response.WriteAsync("The console could not answer this request; its log has the details (event 8809).", context.RequestAborted);
    }

    private static void ConfigureApi(IServiceProvider services, HttpClient http)
    {
        var options = services.GetRequiredService<ConsoleOptions>();
        var baseUrl = options.ApiUrl!.ToString();
        http.BaseAddress = new Uri(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/");
        http.Timeout = TimeSpan.FromSeconds(30);
    }

    private static HttpMessageHandler TrustingHandler(IServiceProvider services)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        services.GetRequiredService<ApiTrust>().Apply(handler.SslOptions);
        return handler;
    }
}
