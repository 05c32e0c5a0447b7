using System.Diagnostics.Metrics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Threading.Channels;
using Dynamo.Runtime.Tokenization;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.Scheduling;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Dynamo.Worker.Engines.OpenAi;

/// <summary>
/// The <c>openai</c> engine: every request is forwarded, streamed, to an external OpenAI-compatible server's
/// <c>/v1/completions</c> with its token-id prompt, and the streamed tokens come back as scheduler outputs. At most
/// <see cref="OpenAiEngineOptions.MaxConcurrency"/> requests are in flight; up to
/// <see cref="OpenAiEngineOptions.WaitingCapacity"/> more wait, beyond that <see cref="SchedulerFullException"/>.
/// The server keeps its own KV cache, so this engine publishes no KV events (the router routes approximately).
/// </summary>
public sealed partial class OpenAiEngine : IGenerationBackend, IDisposable
{
    public const string EngineName = "openai";

    /// <summary>The named HttpClient (ServiceDefaults' resilience and discovery apply to it).</summary>
    public const string HttpClientName = "Dynamo.Worker.OpenAi";

    private readonly OpenAiEngineOptions _options;
    private readonly WorkerOptions _worker;
    private readonly IHttpClientFactory _clients;
    private readonly ILogger<OpenAiEngine> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _slots;
    private readonly IMeterFactory? _meters;
    private OpenAiEngineMetrics? _metrics;
    private Uri? _completions;
    private int _admitted;
    private int _waiting;
    private int _running;

    public OpenAiEngine(IOptions<OpenAiEngineOptions> options, IOptions<WorkerOptions> worker, IHttpClientFactory clients, ILogger<OpenAiEngine> logger,
        IMeterFactory? meters = null)
    {
        _options = options.Value;
        _worker = worker.Value;
        _clients = clients;
        _logger = logger;
        _slots = new SemaphoreSlim(_options.MaxConcurrency, _options.MaxConcurrency);
        _meters = meters;
    }

    public int Running => Volatile.Read(ref _running);

    public int Waiting => Volatile.Read(ref _waiting);

    public bool AcceptsOnSubmit => false;

    /// <summary>The tokenizer read from <see cref="WorkerOptions.ModelPath"/> (no weights), when one is configured.</summary>
    public ITokenizer? Tokenizer { get; private set; }

    /// <summary>The tokenizer's vocabulary; without one, any id is forwarded and the server checks it.</summary>
    public int VocabSize => Tokenizer?.VocabSize ?? int.MaxValue;

    public int MaxSequenceTokens => _options.MaxModelLength ?? int.MaxValue;

    /// <summary>Resolves the server address and reads the tokenizer; called once by the worker's host at start.</summary>
    public void Start()
    {
        // Created here, not in the constructor: the host always constructs this engine, and its gauges share the
        // scheduler's names, so a worker running another engine would export a second, always-zero series.
        _metrics ??= new OpenAiEngineMetrics(_meters, () => Running, () => Waiting);
        var baseUrl = _options.BaseUrl ?? throw new OptionsValidationException(nameof(OpenAiEngineOptions), typeof(OpenAiEngineOptions),
            ["Worker:OpenAi:BaseUrl is required when Worker:Engine is openai."]);
        // Both spellings users copy from server docs work: http://host:8000 and http://host:8000/v1.
        var root = baseUrl.TrimEnd('/');
        _completions = new Uri(root.EndsWith("/v1", StringComparison.Ordinal) ? root + "/completions" : root + "/v1/completions", UriKind.Absolute);
        if (_worker.ModelPath is { Length: > 0 } path)
        {
            if (!File.Exists(path))
            {
                throw new OptionsValidationException(nameof(WorkerOptions), typeof(WorkerOptions),
                    [$"Worker:ModelPath '{path}' does not exist (the openai engine reads only its tokenizer)."]);
            }

            Tokenizer = Runtime.Tokenization.Tokenizer.FromFile(path);
        }

        LogStarted(_completions, _options.Tokens, _worker.ModelPath ?? "none", _options.MaxConcurrency);
    }

    public ChannelReader<SchedulerOutput> Submit(SchedulerRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var completions = _completions ?? throw new InvalidOperationException("The openai engine has not started.");
        if (_options.Tokens == OpenAiTokenMode.Text && request.Sampling.Logprobs)
        {
            throw new GenerationRejectedException(400,
                "logprobs are not available from this worker: its server returns text only (Worker:OpenAi:Tokens = Text), so its token ids are re-tokenized.",
                "invalid_request_error");
        }

        if (Interlocked.Increment(ref _admitted) > _options.MaxConcurrency + _options.WaitingCapacity)
        {
            Interlocked.Decrement(ref _admitted);
            throw new SchedulerFullException(_options.WaitingCapacity, _options.RetryAfter);
        }

        Interlocked.Increment(ref _waiting);
        // Bounded: a slow client slows reading the upstream stream (TCP back-pressure), never grows memory.
        var output = Channel.CreateBounded<SchedulerOutput>(new BoundedChannelOptions(64)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _ = RunAsync(completions, request, output.Writer, cancellationToken);
        return output.Reader;
    }

    public void Stop() => _stopping.Cancel();

    public void Dispose()
    {
        // Cancelled, not disposed: a request racing with shutdown still links to it (a CTS without a timer
        // holds nothing that needs disposing), and sees the cancellation.
        _stopping.Cancel();
        _metrics?.Dispose();
    }

    private async Task RunAsync(Uri completions, SchedulerRequest request, ChannelWriter<SchedulerOutput> output, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        var token = linked.Token;
        var started = false;
        try
        {
            await _slots.WaitAsync(token).ConfigureAwait(false);
            started = true;
            Interlocked.Decrement(ref _waiting);
            Interlocked.Increment(ref _running);
            await ForwardAsync(completions, request, output, token).ConfigureAwait(false);
            output.TryComplete();
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            output.TryComplete(new OperationCanceledException($"Request {request.Id} was cancelled.", token));
        }
        catch (Exception ex)
        {
            _metrics?.Failed(ex switch
            {
                GenerationRejectedException { StatusCode: 503 } => "unreachable",
                GenerationRejectedException { StatusCode: < 500 } => "rejected",
                GenerationRejectedException => "server_error",
                _ => "stream_broken",
            });
            LogFailed(request.Id, ex);
            output.TryComplete(ex);
        }
        finally
        {
            if (started)
            {
                Interlocked.Decrement(ref _running);
                _slots.Release();
            }
            else
            {
                Interlocked.Decrement(ref _waiting);
            }

            Interlocked.Decrement(ref _admitted);
        }
    }

    private async Task ForwardAsync(Uri completions, SchedulerRequest request, ChannelWriter<SchedulerOutput> output, CancellationToken cancellationToken)
    {
        var server = completions.GetLeftPart(UriPartial.Authority);
        using var message = new HttpRequestMessage(HttpMethod.Post, completions)
        {
            Content = JsonContent.Create(OpenAiRequestMapping.ToCompletion(request, _options.Model ?? _worker.Model, _options.Tokens), OpenAiJsonContext.Default.CompletionRequest),
        };
        if (_options.ApiKey is { Length: > 0 } key)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        var client = _clients.CreateClient(HttpClientName);
        HttpResponseMessage response;
        try
        {
            // Resilience (ServiceDefaults) retries this POST only when no byte reached the server; once the
            // response streams, nothing is sent again: a broken stream is the router's to migrate.
            response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new GenerationRejectedException(503, $"The OpenAI-compatible server at {server} is unreachable: {ex.Message}",
                "service_unavailable", _options.RetryAfter, ex);
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await RejectionAsync(response, server, cancellationToken).ConfigureAwait(false);
            }

            if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                throw new GenerationRejectedException(502,
                    $"The OpenAI-compatible server at {server} answered {response.Content.Headers.ContentType?.MediaType ?? "no content type"} instead of a stream (stream: true).",
                    "server_error");
            }

            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                await new OpenAiCompletionStream(request, Tokenizer, server).CopyAsync(body, output, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>4xx: the server's message with its status (the client's request was wrong); 5xx: 502.</summary>
    private async Task<GenerationRejectedException> RejectionAsync(HttpResponseMessage response, string server, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var detail = UpstreamErrors.Describe(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        if (status is >= 400 and < 500)
        {
            var retryAfter = response.Headers.RetryAfter?.Delta ?? (status == 429 ? _options.RetryAfter : null);
            return new GenerationRejectedException(status, detail, status == 429 ? "rate_limit_error" : "invalid_request_error", retryAfter);
        }

        return new GenerationRejectedException(502, $"The OpenAI-compatible server at {server} failed with {status}: {detail}", "server_error");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Forwarding generation to {Completions} (tokens: {Tokens}, tokenizer: {Tokenizer}, concurrency {Concurrency})")]
    private partial void LogStarted(Uri completions, OpenAiTokenMode tokens, string tokenizer, int concurrency);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarded request {RequestId} failed")]
    private partial void LogFailed(string requestId, Exception exception);
}
