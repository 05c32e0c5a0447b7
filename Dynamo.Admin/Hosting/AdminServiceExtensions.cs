using Dynamo.Admin.Auth;
using Dynamo.Admin.Components;
using Dynamo.Admin.Control;
using Dynamo.Admin.Hubs;
using Dynamo.Admin.Live;
using Dynamo.Admin.Sla;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using System.Text.Json.Serialization;

namespace Dynamo.Admin.Hosting;

public static class AdminServiceExtensions
{
    /// <summary>
    /// Options (credentials required outside Development), cookie sign-in, Blazor static server rendering with Radzen, the
    /// metrics hub and the shared cluster feed, and the clients of the gateway's key API and the AppHost control API.
    /// </summary>
    public static WebApplicationBuilder AddAdminServices(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AdminOptions>()
            .BindConfiguration(AdminOptions.Section)
            .Validate<IHostEnvironment>((o, environment) => environment.IsDevelopment() || o.HasCredentials,
                "Admin:Username and Admin:PasswordHash (or Admin:Password) are required outside Development: the Admin app must not run without operator sign-in.")
            .Validate(o => string.IsNullOrEmpty(o.PasswordHash) || IsWellFormedHash(o.PasswordHash),
                "Admin:PasswordHash is not a pbkdf2-sha256$iterations$salt$hash value.")
            .Validate(o => o.HistoryMinutes is >= 1 and <= 60, "Admin:HistoryMinutes must be between 1 and 60.")
            .Validate(o => o.StaleAfterSeconds is >= 1 and <= 600, "Admin:StaleAfterSeconds must be between 1 and 600.")
            .ValidateOnStart();

        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = OperatorSignIn.LoginPath;
                o.Cookie.Name = "dynamo-admin";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.SlidingExpiration = true;
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                // A hub or API client cannot follow a redirect to a sign-in page; it needs the status.
                o.Events.OnRedirectToLogin = context =>
                {
                    if (context.Request.Path.StartsWithSegments("/hubs"))
                    {
                        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        return Task.CompletedTask;
                    }

                    context.Response.Redirect(context.RedirectUri);
                    return Task.CompletedTask;
                };
            });
        services.AddAuthorization();
        services.AddCascadingAuthenticationState();
        services.AddAntiforgery();

        services.AddRazorComponents();
        services.AddSignalR().AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()));

        services.AddSingleton<ClusterState>();
        services.AddHostedService<ClusterFeed>();
        services.AddSingleton<SlaEditor>();
        AddServiceClient<GatewayKeysClient>(builder, GatewayKeysClient.ServiceName);
        AddServiceClient<AppHostControlClient>(builder, AppHostControlClient.ServiceName);
        return builder;
    }

    public static WebApplication MapAdmin(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        }
        else if (!app.Services.GetRequiredService<IOptions<AdminOptions>>().Value.HasCredentials)
        {
            AdminLog.NoCredentials(app.Logger);
        }

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        app.MapStaticAssets().AllowAnonymous();
        app.MapOperatorSignIn();
        app.MapHub<MetricsHub>(MetricsHub.Path).RequireAuthorization();
        app.MapRazorComponents<App>().RequireAuthorization();
        return app;
    }

    // Service discovery the Aspire way: services__{name}__http__0 → services:{name}:http:0.
    private static void AddServiceClient<TClient>(WebApplicationBuilder builder, string service)
        where TClient : class
    {
        var url = builder.Configuration[$"services:{service}:http:0"];
        builder.Services.AddHttpClient<TClient>(http =>
        {
            if (!string.IsNullOrEmpty(url))
            {
                http.BaseAddress = new Uri(url.EndsWith('/') ? url : url + "/");
            }

            http.Timeout = TimeSpan.FromSeconds(15);
        });
    }

    private static bool IsWellFormedHash(string hash)
    {
        try
        {
            OperatorPassword.Verify("probe", hash);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

internal static partial class AdminLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "No operator credentials are configured (Admin:Username, Admin:Password/PasswordHash): nobody can sign in. Outside Development the app refuses to start like this.")]
    public static partial void NoCredentials(ILogger logger);
}
