using System.Security.Claims;
using Dynamo.Admin.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Dynamo.Admin.Auth;

/// <summary><c>POST /account/login</c> (form, antiforgery-checked) and <c>POST /account/logout</c>.</summary>
public static partial class OperatorSignIn
{
    public const string LoginPath = "/login";

    public static IEndpointRouteBuilder MapOperatorSignIn(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/account/login", LoginAsync).AllowAnonymous();
        endpoints.MapPost("/account/logout", LogoutAsync).RequireAuthorization();
        return endpoints;
    }

    /// <summary>True when the pair matches the configured operator; false for anything else, including no configuration.</summary>
    public static bool Check(AdminOptions options, string? username, string? password)
    {
        if (!options.HasCredentials || string.IsNullOrEmpty(username) || string.IsNullOrEmpty(password))
        {
            return false;
        }

        var userMatches = OperatorPassword.PlainEquals(username, options.Username!);
        var passwordMatches = !string.IsNullOrEmpty(options.PasswordHash)
            ? OperatorPassword.Verify(password, options.PasswordHash)
            : OperatorPassword.PlainEquals(password, options.Password!);
        return userMatches && passwordMatches;
    }

    private static async Task<IResult> LoginAsync(
        HttpContext context,
        [FromForm] string? username,
        [FromForm] string? password,
        [FromForm] string? returnUrl,
        IOptions<AdminOptions> options,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(OperatorSignIn).FullName!);
        if (!Check(options.Value, username, password))
        {
            LogRefused(logger, username ?? "");
            return TypedResults.Redirect($"{LoginPath}?failed=1&returnUrl={Uri.EscapeDataString(SafeReturnUrl(returnUrl))}");
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, username!)], CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
        LogSignedIn(logger, username!);
        return TypedResults.LocalRedirect(SafeReturnUrl(returnUrl));
    }

    private static async Task LogoutAsync(HttpContext context)
    {
        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        context.Response.Redirect(LoginPath);
    }

    // Only local paths: an open redirect would let a phishing link bounce a signed-in operator anywhere.
    private static string SafeReturnUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url
            : "/";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Operator sign-in refused for user '{Username}'")]
    private static partial void LogRefused(ILogger logger, string username);

    [LoggerMessage(Level = LogLevel.Information, Message = "Operator '{Username}' signed in")]
    private static partial void LogSignedIn(ILogger logger, string username);
}
