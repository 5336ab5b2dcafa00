using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Edge.Agent.Admin;

/// <summary>Logs every admin request that changes something with the caller the kernel names (event 4030).</summary>
internal static class AdminAudit
{
    public static IApplicationBuilder UseAdminAudit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
        {
            await next(context);
            return;
        }

        var caller = AdminCaller.Of(context);
        try
        {
            await next(context);
        }
        finally
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AdminAudit).FullName!);
            Log.AdminRequest(logger, context.Request.Method, context.Request.Path.Value ?? "", caller.Name, caller.Uid, caller.Pid, context.Response.StatusCode);
        }
    });
}
