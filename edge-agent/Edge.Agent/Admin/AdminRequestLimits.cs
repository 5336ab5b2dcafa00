using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Edge.Agent.Admin;

/// <summary>
/// A request body larger than <c>Agent:Admin:MaxRequestBodyBytes</c> gets a 413 that names the setting, whether it
/// announces its length (refused before a byte of it is read) or streams it chunked (Kestrel's own limit stops the
/// read at the bound). Kestrel alone would answer the first with an empty 413 only once an endpoint starts reading.
/// </summary>
internal static class AdminRequestLimits
{
    public static IApplicationBuilder UseAdminRequestLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var limit = context.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            await TooLarge(limit).ExecuteAsync(context);
            return;
        }

        try
        {
            await next(context);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            await TooLarge(limit).ExecuteAsync(context);
        }
    });

    private static IResult TooLarge(long limit) => Results.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Request body too large",
        detail: $"body: at most {limit} bytes (Agent:Admin:MaxRequestBodyBytes)");
}
