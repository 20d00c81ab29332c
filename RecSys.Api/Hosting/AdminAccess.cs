using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace RecSys.Api.Hosting;

/// <summary>Options of the <c>Admin</c> section.</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    /// <summary>
    /// Callers sending this value in the <c>X-Admin-Key</c> header are admins: they may reload models
    /// (<c>/admin/*</c>) and force an experiment variant (<c>variant=</c>). Empty: admin actions are closed to everyone.
    /// </summary>
    public string Key { get; set; } = "";
}

/// <summary>Who may operate the service: one shared key, compared in constant time.</summary>
internal static class AdminAccess
{
    public const string Header = "X-Admin-Key";

    public static bool IsAdmin(HttpContext http)
    {
        var key = http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.Key;
        var given = http.Request.Headers[Header].FirstOrDefault();
        if (string.IsNullOrEmpty(key) || given is null) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(key));
    }

    public static ProblemHttpResult Forbidden(string what) => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: $"{what} is for admin callers only.",
        detail: $"Send the {Header} header set to Admin:Key. With no Admin:Key configured, admin actions are closed.");

    /// <summary>Every endpoint of the group answers 403 to callers without the admin key.</summary>
    public static RouteGroupBuilder RequireAdmin(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) => IsAdmin(context.HttpContext) ? await next(context) : Forbidden("This endpoint"));
        group.ProducesProblem(StatusCodes.Status403Forbidden);
        return group;
    }
}
