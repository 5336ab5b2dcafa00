using Edge.Api.Accounts;
using Edge.Api.Alerts;
using Edge.Api.Analytics;
using Edge.Api.Audit;
using Edge.Api.DeadLetters;
using Edge.Api.Downlink;
using Edge.Api.Auth;
using Edge.Api.Fhir;
using Edge.Api.Fleet;
using Edge.Api.GatewayCa;
using Edge.Api.Http;
using Edge.Api.Live;
using Edge.Api.Quarantine;

using Edge.Api.RateLimit;
using Edge.Api.Registry;
using Edge.Api.Reports;
using Edge.Api.Telemetry;
using Edge.Hosting;
using Edge.Hosting.Metrics;
using Edge.Storage;
using Edge.Storage.Reports;
using Microsoft.AspNetCore.Diagnostics;

namespace Edge.Api.Hosting;

/// <summary>Composes the API: configuration, storage, auth, one Map per feature. Used by Program and the tests.</summary>
internal static class ApiApplication
{
    /// <summary>Environment variable naming the configuration file instead of /etc/edge-api/api.json.</summary>
    public const string ConfigFileVariable = "EDGE_API_CONFIG";

    /// <summary>
    /// The shipped defaults, below every other source. In code, not in an appsettings.json: the test projects reference
    /// the agent and the API, and two appsettings.json files would race for one place in their output folders.
    /// </summary>
    internal static readonly Dictionary<string, string?> Defaults = new()
    {
        ["Urls"] = "http://127.0.0.1:8080",
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
    };

    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

        // Defaults < /etc/edge-api/api.json < environment < command line.
        builder.Configuration.AddEdgeSettings(ConfigFileVariable, "/etc/edge-api/api.json", args, Defaults);

        builder.WebHost.UseKestrelHttpsConfiguration();
        // Gateways renew their certificate by presenting it (GatewayCertificateRenewalEndpoints, which checks it against
        // the gateway CA); every other caller sends none and authenticates with a token.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https =>
        {
            https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate;
            https.AllowAnyClientCertificate();
        }));
        builder.Services.AddSystemd();
        builder.Services.AddEdgeStorage(DatabaseRole.Api);
        builder.Services.AddEdgeReports();
        builder.AddApiAlerts();
        builder.AddRegistry();
        builder.AddFleet();
        builder.AddQuarantine();
        builder.AddAudit();
        builder.AddGatewayCa();
        builder.Services.AddHostedService<ApiStartup>();
        builder.AddLive();
        // Prometheus on its own port with its own token (Metrics:Url), never on the API's public address.
        builder.Services.AddSingleton<ApiMetrics>();
        builder.Services.AddMetricsListener(sp => [sp.GetRequiredService<ApiMetrics>().Meter]);
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ApiMetrics>());
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            // The context's own naming option applies only to its own options instance, so the policy is set here too.
            o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ApiJsonContext.Default);
        });
        // Bad bodies throw, so the exception handler below can answer with the JSON error that names the field.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddProblemDetails();
        builder.AddApiAuth();
        builder.AddAccounts();
        builder.AddApiRateLimits();
        builder.AddFhir();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer<ApiDocumentTransformer>().AddOperationTransformer<ApiOperationTransformer>().AddSchemaTransformer<ApiSchemaTransformer>());

        var app = builder.Build();
        app.UseExceptionHandler(handler => handler.Run(WriteErrorAsync));
        app.UseStatusCodePages();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.UseAuthentication();
        // After authentication, so a valid token's subject picks the budget; before authorization, so refused callers
        // spend it too (a client guessing tokens is slowed down, not only refused).
        app.UseRateLimiter();
        app.UseAuthorization();
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapGet("/healthz", () => TypedResults.Ok("ok")).AllowAnonymous().ExcludeFromDescription();
        app.MapRegistryEndpoints();
        app.MapGatewayCertificateEndpoints();
        app.MapGatewayCertificateRenewalEndpoints();
        app.MapTelemetryEndpoints();
        app.MapAnalyticsEndpoints();
        app.MapLiveEndpoints();
        app.MapLiveAlertEndpoints();
        app.MapAlertEndpoints();
        app.MapAuditEndpoints();
        app.MapConfigEndpoints();
        app.MapFirmwareEndpoints();
        app.MapReportEndpoints();
        app.MapQuarantineEndpoints();
        app.MapDeadLetterEndpoints();
        app.MapRejectedReadingEndpoints();
        app.MapSignInEndpoints();
        app.MapMeEndpoints();
        app.MapUserEndpoints();
        app.MapFhirEndpoints();
        return app;
    }

    /// <summary>Unhandled errors become problem documents; a malformed body says what the JSON reader found.</summary>
    private static async Task WriteErrorAsync(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (error is BadHttpRequestException bad)
        {
            context.Response.StatusCode = bad.StatusCode;
            var detail = bad.InnerException is System.Text.Json.JsonException json ? $"The body is not valid: {json.Message}" : bad.Message;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = bad.StatusCode, Title = "The request could not be read.", Detail = detail },
            });
            return;
        }
        if (error is not null)
        {
            // The path only: a query string may carry a cursor or filter values, never worth a log line.
            Log.RequestFailed(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Edge.Api"), context.Request.Method, context.Request.Path, error);
        }
        context.Response.StatusCode = StatusCodes.Status500InternalServerError;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = 500, Title = "The server failed.", Detail = "See the API's log (event ids 8xxx) for the cause." },
        });
    }
}
