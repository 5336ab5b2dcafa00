using Edge.Console.Sessions;

namespace Edge.Console.Api;

/// <summary>
/// The ECG report PDF for the device page's viewer: fetched from the API with the user's token and served inline, from
/// the console's origin, only to the console's own frames (SecurityHeaders gives this path frame-ancestors 'self').
/// </summary>
internal static class ReportPdfEndpoint
{
    public static void MapReportPdfEndpoint(this IEndpointRouteBuilder app) =>
        app.MapGet("/reports/{serial}/{reportId}.pdf", async (string serial, string reportId, HttpContext context, UserSession session, ApiClient api, CancellationToken cancellationToken) =>
        {
            session.UseSession(SignInSetup.SessionIdOf(context.User));
            using var response = await api.ReportPdfAsync(serial, reportId, cancellationToken);
            if (response is null)
            {
                return Results.NotFound();
            }
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            context.Response.Headers.ContentDisposition = "inline";
            return Results.File(bytes, "application/pdf");
        }).RequireAuthorization();
}
