using System.ComponentModel.DataAnnotations;
using Dynamo.Worker.Hosting;
using Microsoft.Extensions.Options;

namespace Dynamo.Worker.Engines.OpenAi;

/// <summary>How tokens come back from the upstream server.</summary>
public enum OpenAiTokenMode
{
    /// <summary>
    /// Ask for token ids (vLLM's <c>return_tokens_as_token_ids</c>: logprob tokens read <c>token_id:N</c>). A server
    /// that answers with text anyway is re-tokenized when a tokenizer is configured, and fails the request otherwise.
    /// </summary>
    TokenIds,

    /// <summary>
    /// The server returns text only (llama.cpp's server, SGLang without token output): the text is tokenized with
    /// the tokenizer of <see cref="WorkerOptions.ModelPath"/>. Approximate: the ids are the tokenizer's encoding of
    /// the returned text, which may differ from the ids the server sampled.
    /// </summary>
    Text,
}

/// <summary>The <c>openai</c> engine: an external OpenAI-compatible server (section <c>Worker:OpenAi</c>).</summary>
public sealed class OpenAiEngineOptions
{
    public const string Section = "Worker:OpenAi";

    /// <summary>The server's base address (without <c>/v1</c>), e.g. <c>http://vllm:8000</c>; a service-discovery name works too.</summary>
    [Url(ErrorMessage = "Worker:OpenAi:BaseUrl must be an absolute URL.")]
    public string? BaseUrl { get; set; }

    /// <summary>Sent as <c>Authorization: Bearer</c> when set.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The model name the server serves; defaults to <see cref="WorkerOptions.Model"/>.</summary>
    public string? Model { get; set; }

    /// <summary>Requests forwarded at once; more wait in the worker's queue (the server batches what it gets).</summary>
    [Range(1, 65_536, ErrorMessage = "Worker:OpenAi:MaxConcurrency must be between 1 and 65536.")]
    public int MaxConcurrency { get; set; } = 256;

    /// <summary>Requests that may wait for a forwarding slot before new ones are refused with 503.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Worker:OpenAi:WaitingCapacity must be between 1 and 1000000.")]
    public int WaitingCapacity { get; set; } = 1_024;

    /// <summary>What a refused caller is told to wait before retrying.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(1);

    public OpenAiTokenMode Tokens { get; set; } = OpenAiTokenMode.TokenIds;

    /// <summary>The server's context length (prompt plus max_tokens), checked before forwarding; unset → the server checks.</summary>
    [Range(1, int.MaxValue, ErrorMessage = "Worker:OpenAi:MaxModelLength must be positive.")]
    public int? MaxModelLength { get; set; }
}

/// <summary>Checks the section only when the worker serves with the openai engine, so other engines need none of it.</summary>
internal sealed class OpenAiEngineOptionsValidator(IOptions<WorkerOptions> worker) : IValidateOptions<OpenAiEngineOptions>
{
    public ValidateOptionsResult Validate(string? name, OpenAiEngineOptions options)
    {
        if (worker.Value.Engine != OpenAiEngine.EngineName)
        {
            return ValidateOptionsResult.Success;
        }

        if (string.IsNullOrWhiteSpace(options.BaseUrl) || !Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https"))
        {
            return ValidateOptionsResult.Fail("Worker:OpenAi:BaseUrl must be the http(s) address of the OpenAI-compatible server when Worker:Engine is openai.");
        }

        if (options.Tokens == OpenAiTokenMode.Text && string.IsNullOrWhiteSpace(worker.Value.ModelPath))
        {
            return ValidateOptionsResult.Fail(
                "Worker:OpenAi:Tokens = Text tokenizes the server's text, so Worker:ModelPath must name a GGUF file with the served model's tokenizer (only its tokenizer is read).");
        }

        return options.RetryAfter > TimeSpan.Zero
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail("Worker:OpenAi:RetryAfter must be positive.");
    }
}
