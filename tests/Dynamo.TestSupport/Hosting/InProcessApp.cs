using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dynamo.TestSupport.Hosting;

/// <summary>How <see cref="InProcessApp.StartAsync"/> builds the app around the caller's composition.</summary>
public sealed record InProcessAppOptions
{
    public string EnvironmentName { get; init; } = Environments.Development;

    /// <summary>
    /// The loopback port; 0 lets Kestrel pick a free one. Pick one first (<see cref="ChildServices.FreePort"/>) when
    /// the app must know its own address before it starts, e.g. a worker advertising it in its registration.
    /// </summary>
    public int Port { get; init; }

    /// <summary>Configuration layers, each overriding the ones before it, added before the composition runs.</summary>
    public IReadOnlyList<IEnumerable<KeyValuePair<string, string?>>> Settings { get; init; } = [];

    /// <summary><see cref="WebApplication.CreateSlimBuilder(WebApplicationOptions)"/>, for small stand-ins that map a few endpoints themselves.</summary>
    public bool Slim { get; init; }
}

/// <summary>
/// A real ASP.NET Core app in this process, on Kestrel at 127.0.0.1. The caller passes the service's own composition
/// (e.g. <c>b =&gt; b.AddWorker()</c> and <c>a =&gt; a.MapWorker()</c>, what its Program.cs calls), so tests and benches
/// exercise what is deployed, not a copy of it; settings and the port are all that differ.
/// </summary>
public sealed class InProcessApp : IAsyncDisposable
{
    private InProcessApp(WebApplication app)
    {
        App = app;
        Address = AddressOf(app);
    }

    /// <summary>The started app; <see cref="DisposeAsync"/> stops and disposes it.</summary>
    public WebApplication App { get; }

    /// <summary>The first URL Kestrel bound (the main URL when an app adds listeners of its own).</summary>
    public Uri Address { get; }

    public IServiceProvider Services => App.Services;

    /// <param name="compose">Registers the app's services, after <see cref="InProcessAppOptions.Settings"/> are in configuration.</param>
    /// <param name="map">Maps the app's endpoints and middleware.</param>
    public static async Task<InProcessApp> StartAsync(InProcessAppOptions options, Action<WebApplicationBuilder> compose, Action<WebApplication> map)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(compose);
        ArgumentNullException.ThrowIfNull(map);
        var webOptions = new WebApplicationOptions { EnvironmentName = options.EnvironmentName };
        var builder = options.Slim ? WebApplication.CreateSlimBuilder(webOptions) : WebApplication.CreateBuilder(webOptions);
        builder.WebHost.UseUrls($"http://127.0.0.1:{options.Port}");
        foreach (var layer in options.Settings)
        {
            builder.Configuration.AddInMemoryCollection(layer);
        }

        compose(builder);
        var app = builder.Build();
        map(app);
        try
        {
            await app.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new InProcessApp(app);
    }

    /// <summary>The first URL a started app's Kestrel bound.</summary>
    public static Uri AddressOf(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync().ConfigureAwait(false);
        await App.DisposeAsync().ConfigureAwait(false);
    }
}
