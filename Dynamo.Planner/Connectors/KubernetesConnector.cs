using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Dynamo.Planner.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Planner.Connectors;

/// <summary>
/// Scales Deployments through the API server's scale subresource
/// (<c>apis/apps/v1/namespaces/{ns}/deployments/{name}/scale</c>, JSON merge patch of <c>spec.replicas</c>).
/// Credentials default to the pod's service account (token re-read per call, since kubelets rotate it). Kubernetes
/// scales down by sending SIGTERM and waiting <c>terminationGracePeriodSeconds</c>, which is what lets workers drain.
/// </summary>
internal sealed class KubernetesConnector(HttpClient http, KubernetesTarget target, IOptions<PlannerOptions> options) : IScalingConnector
{
    public string Name => ScalingConnectors.Kubernetes;

    public async Task<int?> GetReplicasAsync(string pool, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Get, pool);
        using var response = await SendAsync(request, pool, cancellationToken).ConfigureAwait(false);
        var scale = await response.Content.ReadFromJsonAsync(PlannerJsonContext.Default.KubernetesScale, cancellationToken).ConfigureAwait(false);
        return scale?.Spec?.Replicas;
    }

    public async Task<string> ScaleAsync(string pool, int replicas, string decisionId, CancellationToken cancellationToken)
    {
        using var request = Request(HttpMethod.Patch, pool);
        request.Content = new StringContent($"{{\"spec\":{{\"replicas\":{replicas}}}}}", Encoding.UTF8, "application/merge-patch+json");
        using var response = await SendAsync(request, pool, cancellationToken).ConfigureAwait(false);
        var scale = await response.Content.ReadFromJsonAsync(PlannerJsonContext.Default.KubernetesScale, cancellationToken).ConfigureAwait(false);
        return $"Deployment {target.Namespace}/{options.Value.ResourceFor(pool)} spec.replicas = {scale?.Spec?.Replicas ?? replicas} (pods terminate gracefully)";
    }

    private HttpRequestMessage Request(HttpMethod method, string pool)
    {
        var deployment = options.Value.ResourceFor(pool);
        var uri = new Uri(target.ApiServer, $"apis/apps/v1/namespaces/{Uri.EscapeDataString(target.Namespace)}/deployments/{Uri.EscapeDataString(deployment)}/scale");
        var request = new HttpRequestMessage(method, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.ReadToken());
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string pool, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new ScalingException($"The Kubernetes API server {target.ApiServer} could not be reached: {ex.Message}", ex);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            throw new ScalingException(
                $"The Kubernetes API refused to scale '{options.Value.ResourceFor(pool)}' in '{target.Namespace}': {(int)response.StatusCode} {body}");
        }
    }
}

/// <summary>Where and as whom the Kubernetes connector talks: explicit settings first, then the in-cluster service account.</summary>
internal sealed class KubernetesTarget
{
    private readonly string? _token;
    private readonly string _tokenPath;

    public KubernetesTarget(KubernetesConnectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _token = options.Token;
        _tokenPath = Path.Combine(options.ServiceAccountPath, "token");
        var host = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST");
        var port = Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT") ?? "443";
        var server = options.ApiServer ?? (host is { Length: > 0 } ? $"https://{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}" : null)
            ?? throw new InvalidOperationException("The kubernetes connector needs Planner:Kubernetes:ApiServer or KUBERNETES_SERVICE_HOST (in-cluster).");
        ApiServer = new Uri(server.EndsWith('/') ? server : server + "/");
        var namespacePath = Path.Combine(options.ServiceAccountPath, "namespace");
        Namespace = options.Namespace
            ?? (File.Exists(namespacePath) ? File.ReadAllText(namespacePath).Trim() : null)
            ?? throw new InvalidOperationException($"The kubernetes connector needs Planner:Kubernetes:Namespace or {namespacePath}.");
        var caPath = Path.Combine(options.ServiceAccountPath, "ca.crt");
        CaCertificate = File.Exists(caPath) ? X509CertificateLoader.LoadCertificateFromFile(caPath) : null;
        if (_token is null && !File.Exists(_tokenPath))
        {
            throw new InvalidOperationException($"The kubernetes connector needs Planner:Kubernetes:Token or a service-account token at {_tokenPath}.");
        }
    }

    public Uri ApiServer { get; }

    public string Namespace { get; }

    /// <summary>The cluster CA from the service account, which the API server's certificate must chain to; null: system trust.</summary>
    public X509Certificate2? CaCertificate { get; }

    public string ReadToken() => _token ?? File.ReadAllText(_tokenPath).Trim();

    /// <summary>A handler that trusts the cluster CA (when there is one) in place of the system store.</summary>
    public HttpMessageHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler();
        if (CaCertificate is { } ca)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (errors == System.Net.Security.SslPolicyErrors.None)
                {
                    return true;
                }

                if (certificate is null || (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }

        return handler;
    }
}

/// <summary>The parts of an <c>autoscaling/v1 Scale</c> the connector reads.</summary>
internal sealed record KubernetesScale(KubernetesScaleSpec? Spec);

internal sealed record KubernetesScaleSpec(int? Replicas);
