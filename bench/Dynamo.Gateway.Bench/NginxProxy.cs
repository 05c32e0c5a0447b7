using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dynamo.TestSupport;

namespace Dynamo.Gateway.Bench;

/// <summary>nginx (Debian's package) proxying to the same backend, configured as one would for SSE: no buffering, kept-alive upstream.</summary>
internal sealed class NginxProxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private NginxProxy(Process process, string directory, Uri address)
    {
        _process = process;
        _directory = directory;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<NginxProxy> StartAsync(string executable, Uri backend)
    {
        var directory = Directory.CreateTempSubdirectory("dynamo-gateway-bench-nginx-").FullName;
        var port = ChildServices.FreePort();
        var config = $$"""
            daemon off;
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            events { worker_connections 1024; }
            http {
                access_log off;
                client_body_temp_path {{directory}}/body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                upstream backend { server 127.0.0.1:{{backend.Port}}; keepalive 64; }
                server {
                    listen 127.0.0.1:{{port}};
                    location / {
                        proxy_pass http://backend;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_buffering off;
                        proxy_request_buffering off;
                    }
                }
            }
            """;
        var configPath = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config);
        var process = Process.Start(new ProcessStartInfo(executable, ["-p", directory, "-c", configPath])
        {
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException($"Could not start {executable}.");
        var address = new Uri($"http://127.0.0.1:{port}/");
        for (var attempt = 0; attempt < 100; attempt++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"nginx exited at start: {await process.StandardError.ReadToEndAsync()}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return new NginxProxy(process, directory, address);
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }

        process.Kill();
        throw new TimeoutException("nginx did not start listening within 5 s.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
