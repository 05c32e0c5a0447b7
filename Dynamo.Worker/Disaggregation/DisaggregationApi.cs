using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Dynamo.Worker.Disaggregation;

/// <summary>
/// The worker-to-worker endpoints of disaggregated serving. The protocol (see Dynamo.Worker/README.md):
/// <list type="number">
/// <item>The router picks a prefill worker P and a decode worker D and a fresh transfer id T.</item>
/// <item>It sends <c>POST {P}/v1/internal/prefill</c> with <c>{token_ids, transfer_id: T, decode_url: D}</c>, and
/// <c>POST {D}/v1/internal/generate</c> with the usual body plus <c>kv_transfer: {transfer_id: T}</c>, in either order.</item>
/// <item>P computes the prompt and pushes its full blocks to <c>POST {D}/v1/internal/kv/transfers/T</c>
/// (<see cref="KvTransferWire"/>); D imports those its prefix cache lacks, computes the rest and streams tokens.</item>
/// </list>
/// </summary>
public static class DisaggregationApi
{
    public const string PrefillPath = "/v1/internal/prefill";

    public const string TransferPath = "/v1/internal/kv/transfers/{id}";

    /// <summary>HTTP/2 receive window of a worker's connections and streams (see <see cref="AddDisaggregation"/>).</summary>
    public const int TransferWindowBytes = 16 << 20;

    public static IEndpointRouteBuilder MapDisaggregationApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost(PrefillPath, static (HttpContext context, KvPrefillService prefill) => prefill.HandleAsync(context));
        endpoints.MapPost(TransferPath, static (HttpContext context, string id, KvTransferReceiver receiver) => receiver.ReceiveAsync(context, id));
        // A prefill worker whose request died before its push got through says so, so the decode worker
        // recomputes now instead of waiting out its transfer timeout. A finished transfer is left as it is.
        endpoints.MapDelete(TransferPath, static (string id, KvTransferRegistry registry) =>
        {
            registry.Fail(id, "the prefill worker abandoned the transfer");
            return Results.NoContent();
        });
        return endpoints;
    }

    /// <summary>Options (<c>Worker:Disaggregation</c>), the transfer registry and both sides' services.</summary>
    public static IServiceCollection AddDisaggregation(this IServiceCollection services)
    {
        services.AddOptions<DisaggregationOptions>().BindConfiguration(DisaggregationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<KvTransferRegistry>();
        services.AddSingleton<KvTransferLayoutProvider>();
        services.AddSingleton<KvTransferReceiver>();
        services.AddSingleton<KvPrefillService>();
        services.AddSingleton<DisaggregatedDecode>();

        // A push is megabytes per request: Kestrel's default HTTP/2 windows (768 KiB per stream, 1 MiB per connection)
        // stall the sender on a window update every few blocks, which on a busy host costs a scheduling delay each.
        services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.Http2.InitialConnectionWindowSize = TransferWindowBytes;
            kestrel.Limits.Http2.InitialStreamWindowSize = TransferWindowBytes;
        });
        return services;
    }
}
