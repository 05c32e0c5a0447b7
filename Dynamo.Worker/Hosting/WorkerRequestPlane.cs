using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Hosting;

/// <summary>
/// The worker's h2c-only listener for the request plane (generate, prefill, KV transfer), beside the main URLs that
/// keep HTTP/1.1 for health, metrics and probes. Kestrel (.NET 10) cannot serve HTTP/1.1 and h2c on one cleartext
/// port (it does not sniff the HTTP/2 preface, dotnet/aspnetcore#56984), hence a second port.
/// </summary>
/// <remarks>
/// Kestrel ignores the configured URLs once code adds a listener, so with the request plane on, the main URLs
/// (<c>urls</c> / <c>ASPNETCORE_URLS</c>, else <c>http_ports</c>, else Kestrel's http://localhost:5000) are bound here
/// too. The port is fixed when this singleton is built, before the registration is written: a configured
/// <see cref="WorkerOptions.RequestPlanePort"/>, or a free port of the bind address.
/// </remarks>
public sealed class WorkerRequestPlane
{
    private readonly Lazy<State> _state;

    // Kestrel's options are composed when the app is built, before ValidateOnStart reports invalid worker options
    // with their own message; so the two settings used here are bound from configuration without validation, and
    // values that do not bind leave Kestrel's defaults for the failing start to report.
    public WorkerRequestPlane(IConfiguration configuration) => _state = new Lazy<State>(() => Resolve(configuration));

    /// <summary>The h2c port; null when <see cref="WorkerOptions.RequestPlanePort"/> is -1 (request plane on the main URLs).</summary>
    public int? Port => _state.Value.Port;

    /// <summary>Where the h2c listener binds: the first main URL's address (loopback for <c>localhost</c>).</summary>
    public IPAddress? BindAddress => _state.Value.BindAddress;

    /// <summary>The request plane's URL in the registration: the advertised main URL's host with <see cref="Port"/>, scheme http.</summary>
    public string? AdvertisedUrl(string mainAdvertisedUrl)
    {
        if (Port is not { } port)
        {
            return null;
        }

        var main = new Uri(mainAdvertisedUrl, UriKind.Absolute);
        return new UriBuilder(Uri.UriSchemeHttp, main.Host, port).Uri.GetLeftPart(UriPartial.Authority);
    }

    internal void Configure(KestrelServerOptions kestrel)
    {
        var state = _state.Value;
        if (state.Port is not { } port)
        {
            kestrel.ConfigureEndpointDefaults(listen => listen.Protocols = state.MainProtocols);
            return;
        }

        foreach (var binding in state.Bindings)
        {
            Listen(kestrel, binding, state.MainProtocols);
        }

        // "localhost" is advertised as such, so it is bound as Kestrel binds it (IPv4 and IPv6 loopback).
        if (IsLocalhost(state.Bindings[0]))
        {
            kestrel.ListenLocalhost(port, listen => listen.Protocols = HttpProtocols.Http2);
        }
        else
        {
            kestrel.Listen(state.BindAddress!, port, listen => listen.Protocols = HttpProtocols.Http2);
        }
    }

    private static State Resolve(IConfiguration configuration)
    {
        var bindings = ParseBindings(configuration);
        WorkerOptions options;
        try
        {
            options = configuration.GetSection(WorkerOptions.Section).Get<WorkerOptions>() ?? new WorkerOptions();
        }
        catch (InvalidOperationException)
        {
            options = new WorkerOptions { RequestPlanePort = -1 };
        }

        if (options.RequestPlanePort is < 0 or > IPEndPoint.MaxPort)
        {
            return new State(bindings, options.HttpProtocols, null, null);
        }

        var address = BindIp(bindings[0]);
        return new State(bindings, options.HttpProtocols, address, options.RequestPlanePort > 0 ? options.RequestPlanePort : FreePort(address));
    }

    private static void Listen(KestrelServerOptions kestrel, BindingAddress binding, HttpProtocols protocols)
    {
        Action<ListenOptions> configure = listen =>
        {
            listen.Protocols = protocols;
            if (string.Equals(binding.Scheme, Uri.UriSchemeHttps, StringComparison.OrdinalIgnoreCase))
            {
                listen.UseHttps();
            }
        };
        if (binding.IsUnixPipe)
        {
            kestrel.ListenUnixSocket(binding.UnixPipePath, configure);
        }
        else if (IsLocalhost(binding))
        {
            kestrel.ListenLocalhost(binding.Port, configure);
        }
        else if (IPAddress.TryParse(binding.Host.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, binding.Port, configure);
        }
        else
        {
            // "*", "+" and host names bind every interface, as Kestrel does for such URLs.
            kestrel.ListenAnyIP(binding.Port, configure);
        }
    }

    private static List<BindingAddress> ParseBindings(IConfiguration configuration)
    {
        var urls = configuration[WebHostDefaults.ServerUrlsKey];
        if (string.IsNullOrWhiteSpace(urls) && configuration["http_ports"] is { Length: > 0 } ports)
        {
            urls = string.Join(';', ports.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"http://*:{p}"));
        }

        if (string.IsNullOrWhiteSpace(urls))
        {
            urls = "http://localhost:5000";
        }

        var bindings = new List<BindingAddress>();
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            try
            {
                bindings.Add(BindingAddress.Parse(url));
            }
            catch (FormatException ex)
            {
                throw new OptionsValidationException(nameof(WorkerOptions), typeof(WorkerOptions),
                    [$"The worker's URL '{url}' cannot be bound: {ex.Message}"]);
            }
        }

        return bindings;
    }

    private static IPAddress BindIp(BindingAddress first)
    {
        if (first.IsUnixPipe || IsLocalhost(first))
        {
            return IPAddress.Loopback;
        }

        return IPAddress.TryParse(first.Host.Trim('[', ']'), out var ip) ? ip : IPAddress.Any;
    }

    private static bool IsLocalhost(BindingAddress binding) =>
        !binding.IsUnixPipe && string.Equals(binding.Host, "localhost", StringComparison.OrdinalIgnoreCase);

    private sealed record State(IReadOnlyList<BindingAddress> Bindings, HttpProtocols MainProtocols, IPAddress? BindAddress, int? Port);

    // Picked before Kestrel starts because the registration, written first, names the port. Another process could
    // take it in between; Kestrel then fails to bind and the worker exits rather than advertising a wrong port.
    private static int FreePort(IPAddress address)
    {
        using var probe = new TcpListener(address, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
