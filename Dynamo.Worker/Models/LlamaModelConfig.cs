namespace Dynamo.Worker.Models;

/// <summary>Shape of a generated Llama-family model.</summary>
public sealed record LlamaModelConfig
{
    /// <summary>GGUF architecture: "llama" (adjacent-pair RoPE) or "qwen2" (NeoX RoPE, QKV biases).</summary>
    public string Architecture { get; init; } = "llama";

    public string Name { get; init; } = "dynamo-random";

    public int EmbeddingLength { get; init; }

    public int LayerCount { get; init; }

    public int HeadCount { get; init; }

    public int KvHeadCount { get; init; }

    public int FeedForwardLength { get; init; }

    public int ContextLength { get; init; } = 4096;

    /// <summary>True: no output.weight, the engine reuses token_embd as the output head.</summary>
    public bool TiedOutput { get; init; }

    public float RopeFreqBase { get; init; } = 10000f;

    public float RmsEpsilon { get; init; } = 1e-5f;

    public int HeadDim => EmbeddingLength / HeadCount;

    /// <summary>A few MB with the 32k vocabulary; milliseconds per step, for tests.</summary>
    public static LlamaModelConfig Tiny { get; } = new()
    {
        Name = "dynamo-tiny",
        EmbeddingLength = 64,
        LayerCount = 2,
        HeadCount = 4,
        KvHeadCount = 2,
        FeedForwardLength = 192,
        ContextLength = 2048,
        TiedOutput = true,
    };

    /// <summary>About 56M parameters (≈ 60 MB as Q8_0): the local cluster's default model.</summary>
    public static LlamaModelConfig Default { get; } = new()
    {
        Name = "dynamo-default",
        EmbeddingLength = 512,
        LayerCount = 8,
        HeadCount = 8,
        KvHeadCount = 4,
        FeedForwardLength = 1408,
        ContextLength = 4096,
    };

    public static LlamaModelConfig FromPreset(string preset) => preset switch
    {
        "tiny" => Tiny,
        "default" => Default,
        _ => throw new ArgumentException($"Unknown model preset '{preset}' (expected tiny or default).", nameof(preset)),
    };

    internal void Validate()
    {
        if (Architecture is not ("llama" or "qwen2"))
        {
            throw new ArgumentException($"Architecture '{Architecture}' is not supported (llama, qwen2).");
        }

        if (EmbeddingLength <= 0 || LayerCount <= 0 || HeadCount <= 0 || KvHeadCount <= 0 || FeedForwardLength <= 0)
        {
            throw new ArgumentException("Model dimensions must be positive.");
        }

        if (EmbeddingLength % HeadCount != 0 || HeadCount % KvHeadCount != 0 || HeadDim % 2 != 0)
        {
            throw new ArgumentException("EmbeddingLength must split into even-sized heads and HeadCount must be a multiple of KvHeadCount.");
        }

        if (EmbeddingLength % 32 != 0 || FeedForwardLength % 32 != 0)
        {
            throw new ArgumentException("EmbeddingLength and FeedForwardLength must be multiples of 32 (the quantization block).");
        }
    }
}
