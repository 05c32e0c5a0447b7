using Dynamo.AppHost.Hosting;
using Dynamo.AppHost.Orchestration;

namespace Dynamo.AppHost.Control;

/// <summary>The loopback port of the control API, decided before anything starts so children can be told the URL.</summary>
internal sealed class ControlEndpoint
{
    public int Port { get; private set; }

    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Returns null when the port is usable, else a one-line error naming the option.</summary>
    public string? Reserve(AppHostOptions options)
    {
        if (options.ControlPort == 0)
        {
            Port = PortAllocator.GetFreePort();
            return null;
        }

        if (!PortAllocator.IsFree(options.ControlPort))
        {
            return $"AppHost:ControlPort {options.ControlPort} is already in use on 127.0.0.1; stop what listens there or choose another port (0 picks a free one).";
        }

        Port = options.ControlPort;
        return null;
    }
}
