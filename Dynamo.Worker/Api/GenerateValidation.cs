using System.Globalization;
using Dynamo.Runtime.Generation;
using Dynamo.Runtime.Guided;
using Dynamo.Worker.Engines.Sampling;
using Dynamo.Worker.Hosting;
using Dynamo.Worker.Scheduling;

namespace Dynamo.Worker.Api;

/// <summary>An invalid generate request; <see cref="Param"/> is the offending field's wire name.</summary>
public sealed class InvalidGenerateRequestException(string message, string? param) : Exception(message)
{
    public string? Param { get; } = param;
}

/// <summary>Checks a generate body against the running engine and turns it into a scheduler request.</summary>
internal static class GenerateValidation
{
    public static SchedulerRequest ToSchedulerRequest(GenerateRequest? body, WorkerEngineHost host)
    {
        if (body is null)
        {
            throw new InvalidGenerateRequestException("The body must be a JSON object.", null);
        }

        if (body.TokenIds is not { Length: > 0 } prompt)
        {
            throw new InvalidGenerateRequestException("token_ids must hold at least one token id.", "token_ids");
        }

        var vocab = host.VocabSize;
        foreach (var token in prompt)
        {
            if ((uint)token >= (uint)vocab)
            {
                throw new InvalidGenerateRequestException($"Token id {token} is outside the model's vocabulary (0-{vocab - 1}).", "token_ids");
            }
        }

        if (body.MaxTokens is not { } maxTokens || maxTokens <= 0)
        {
            throw new InvalidGenerateRequestException("max_tokens must be a positive integer.", "max_tokens");
        }

        var total = (long)prompt.Length + maxTokens;
        if (total > host.MaxSequenceTokens)
        {
            throw new InvalidGenerateRequestException(
                $"The prompt ({prompt.Length} tokens) plus max_tokens ({maxTokens}) exceeds the model's context of {host.MaxSequenceTokens} tokens.", "max_tokens");
        }

        if (host.LocalKvBlocks is { } kv && (total + kv.BlockSize - 1) / kv.BlockSize is var blocks && blocks > kv.TotalBlocks)
        {
            throw new InvalidGenerateRequestException(
                $"The prompt ({prompt.Length} tokens) plus max_tokens ({maxTokens}) needs {blocks} KV blocks; this worker has {kv.TotalBlocks}.", "max_tokens");
        }

        if (body.StopTokenIds?.FirstOrDefault(t => (uint)t >= (uint)vocab, -1) is { } badStop && badStop != -1)
        {
            throw new InvalidGenerateRequestException($"Stop token id {badStop} is outside the model's vocabulary (0-{vocab - 1}).", "stop_token_ids");
        }

        if (body.MinTokens is < 0 || body.MinTokens > maxTokens)
        {
            throw new InvalidGenerateRequestException($"min_tokens must be an integer between 0 and max_tokens ({maxTokens}).", "min_tokens");
        }

        var sampling = ToSampling(body.Sampling);
        if (body.Logprobs is { } logprobs)
        {
            if (logprobs is < 0 or > SamplingParams.MaxTopLogprobs)
            {
                throw new InvalidGenerateRequestException($"logprobs must be an integer between 0 and {SamplingParams.MaxTopLogprobs}.", "logprobs");
            }

            if (!host.SupportsLogprobs)
            {
                throw new InvalidGenerateRequestException(
                    "logprobs are not available from this worker's engine (the mocker computes no logits); leave logprobs out.", "logprobs");
            }

            sampling = sampling with { Logprobs = true, TopLogprobs = logprobs };
        }

        if (body.GuidedJson is { } schema)
        {
            sampling = sampling with { Guided = ToGuided(schema, body, host) };
        }

        sampling.Validate(vocab);
        return new SchedulerRequest(
            body.RequestId is { Length: > 0 } id ? id : $"gen-{Guid.NewGuid():N}",
            prompt,
            maxTokens,
            sampling,
            body.Priority ?? 0,
            body.StopTokenIds,
            IgnoreEos: body.IgnoreEos ?? false,
            EndOfGenerationIds: body.IgnoreEos is true ? null : host.EndOfGenerationIds,
            MinTokens: body.MinTokens ?? 0);
    }

    private static GuidedDecoding ToGuided(string schema, GenerateRequest body, WorkerEngineHost host)
    {
        // Guided output ends on EOS once the value is complete; anything that keeps EOS out would trap it.
        if (body.IgnoreEos is true)
        {
            throw new InvalidGenerateRequestException("ignore_eos cannot be combined with guided_json: the output ends on EOS when the value is complete.", "ignore_eos");
        }

        if (body.MinTokens is > 0)
        {
            throw new InvalidGenerateRequestException("min_tokens cannot be combined with guided_json: the value may be complete sooner.", "min_tokens");
        }

        var tokens = host.GuidedTokens ?? throw new InvalidGenerateRequestException(
            "guided_json needs the model's vocabulary: this worker's engine has none (the mocker needs Worker:Mocker:GuidedVocabularyPath; the openai engine does not support it).",
            "guided_json");
        JsonSchemaGrammar grammar;
        try
        {
            grammar = JsonSchemaGrammar.Compile(schema);
        }
        catch (JsonSchemaException ex)
        {
            throw new InvalidGenerateRequestException($"guided_json: {ex.Message}", "guided_json");
        }

        var replay = body.GuidedOutputTokens is { } count
            ? count >= 0 && count <= body.TokenIds!.Length
                ? body.TokenIds[^count..]
                : throw new InvalidGenerateRequestException("guided_output_tokens must be between 0 and the number of token_ids.", "guided_output_tokens")
            : [];
        var guided = new GuidedDecoding(grammar, tokens, replay);
        try
        {
            // Checked here so a bad replay is this request's 400, not a failure inside the engine loop.
            guided.CreateSequence();
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidGenerateRequestException($"guided_output_tokens: the earlier output does not match guided_json ({ex.Message})", "guided_output_tokens");
        }

        return guided;
    }

    private static SamplingParams ToSampling(GenerateSampling? s)
    {
        if (s is null)
        {
            return new SamplingParams();
        }

        IReadOnlyList<LogitBiasEntry>? bias = null;
        if (s.LogitBias is { Count: > 0 })
        {
            var map = new Dictionary<int, float>(s.LogitBias.Count);
            foreach (var (key, value) in s.LogitBias)
            {
                if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var token))
                {
                    throw new InvalidGenerateRequestException($"logit_bias key '{key}' is not a token id.", "logit_bias");
                }

                map[token] = value;
            }

            bias = SamplingParams.LogitBiasFrom(map);
        }

        return new SamplingParams(
            Temperature: s.Temperature ?? 1f,
            TopK: s.TopK ?? 0,
            TopP: s.TopP ?? 1f,
            MinP: s.MinP ?? 0f,
            RepetitionPenalty: s.RepetitionPenalty ?? 1f,
            PresencePenalty: s.PresencePenalty ?? 0f,
            FrequencyPenalty: s.FrequencyPenalty ?? 0f,
            LogitBias: bias,
            Seed: s.Seed);
    }
}
