using System.Diagnostics;
using Serilog;

namespace RecSys.Api.Hosting;

internal static class Logging
{
    /// <summary>Serilog from the <c>Serilog</c> section, as the only logging provider.</summary>
    public static void AddSerilogLogging(this WebApplicationBuilder builder)
    {
        var logger = new LoggerConfiguration()
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext()
            .CreateLogger();
        builder.Logging.ClearProviders();
        builder.Logging.AddSerilog(logger, dispose: true);
    }

    /// <summary>One structured line per request with its request id, status and elapsed time.</summary>
    public static IApplicationBuilder UseRequestLogging(this IApplicationBuilder app) => app.UseMiddleware<RequestLoggingMiddleware>();
}

internal sealed partial class RequestLoggingMiddleware(RequestDelegate next, ILogger<RequestLoggingMiddleware> logger)
{
    public const string Header = "X-Request-Id";

    public async Task InvokeAsync(HttpContext context)
    {
        // A caller's request id (for example from a gateway) is kept when it is sane; otherwise ours is used.
        if (context.Request.Headers.TryGetValue(Header, out var given) && given.Count == 1 && IsSaneId(given[0]))
        {
            context.TraceIdentifier = given[0]!;
        }
        context.Response.Headers[Header] = context.TraceIdentifier;

        var started = Stopwatch.GetTimestamp();
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["RequestId"] = context.TraceIdentifier });
        try
        {
            await next(context);
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LogRequest(context.Request.Method, context.Request.Path.Value ?? "/", context.Request.QueryString.Value ?? "", context.Response.StatusCode, elapsed);
        }
    }

    private static bool IsSaneId(string? id) =>
        !string.IsNullOrEmpty(id) && id.Length <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP {Method} {Path}{Query} responded {StatusCode} in {Elapsed:0.000} ms")]
    private partial void LogRequest(string method, string path, string query, int statusCode, double elapsed);
}
