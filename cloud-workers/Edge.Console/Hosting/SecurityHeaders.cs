namespace Edge.Console.Hosting;

/// <summary>
/// Headers on every answer: a content security policy MudBlazor works under (its components set inline styles, never
/// inline scripts), no framing by other sites, no MIME sniffing, no referrer leaving the console.
/// </summary>
internal static class SecurityHeaders
{
    /// <summary>Paths whose answers the console's own pages frame (the ECG report PDF viewer).</summary>
    public const string FramedPrefix = "/reports/";

    private const string Policy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    private const string FramedPolicy = "default-src 'none'; object-src 'self'; plugin-types application/pdf; frame-ancestors 'self'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            var framed = context.Request.Path.StartsWithSegments(FramedPrefix, StringComparison.Ordinal);
            headers.ContentSecurityPolicy = framed ? FramedPolicy : Policy;
            headers.XFrameOptions = framed ? "SAMEORIGIN" : "DENY";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers.CacheControl = framed ? "private, no-store" : headers.CacheControl.Count > 0 ? headers.CacheControl : "no-store";
            return Task.CompletedTask;
        });
        await next();
    });
}
