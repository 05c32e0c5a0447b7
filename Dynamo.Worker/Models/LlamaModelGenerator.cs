using Dynamo.Runtime.Gguf;

namespace Dynamo.Worker.Models;

/// <summary>
/// Writes deterministic Llama-architecture GGUF files: random weights from a seeded generator,
/// a real vocabulary and its tokenizer metadata, so the model loads like any downloaded one.
/// The same config, type and seed always produce byte-identical files.
/// </summary>
public static class LlamaModelGenerator
{
    public const ulong DefaultSeed = 42;

    /// <summary>A plain chat template (Zephyr-style) so chat requests work against generated models.</summary>
    public const string ChatTemplate =
        "{{ bos_token }}{% for message in messages %}{{ '<|' + message['role'] + '|>\n' + message['content'] + eos_token + '\n' }}{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}";

    private static readonly string[] TokenizerKeys =
    [
        "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
        "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.add_bos_token", "tokenizer.ggml.add_eos_token",
    ];

    /// <summary>The vocabulary copied next to the worker's assembly (models/vocab/llama-spm.gguf).</summary>
    public static string DefaultVocabularyPath => Path.Combine(AppContext.BaseDirectory, "models", "vocab", "llama-spm.gguf");

    public static void Generate(LlamaModelConfig config, GgmlType weightType, ulong seed, string vocabularyPath, string outputPath)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (weightType is not (GgmlType.F32 or GgmlType.F16 or GgmlType.Q8_0 or GgmlType.Q4_0))
        {
            throw new ArgumentException($"Weight type {weightType} is not supported by the generator (F32, F16, Q8_0, Q4_0).", nameof(weightType));
        }

        using var vocab = GgufReader.Open(vocabularyPath);
        var tokens = vocab.GetStringArray("tokenizer.ggml.tokens").ToArray();
        var writer = new GgufWriter();
        WriteMetadata(writer, config, weightType, tokens.Length);
        writer.AddArray("tokenizer.ggml.tokens", tokens);
        writer.AddArray<float>("tokenizer.ggml.scores", vocab.GetArray<float>("tokenizer.ggml.scores"));
        writer.AddArray<int>("tokenizer.ggml.token_type", vocab.GetArray<int>("tokenizer.ggml.token_type"));
        foreach (var key in TokenizerKeys)
        {
            switch (vocab.Metadata.GetValueOrDefault(key)?.Value)
            {
                case string s: writer.Add(key, s); break;
                case uint u: writer.Add(key, u); break;
                case int i: writer.Add(key, i); break;
                case bool b: writer.Add(key, b); break;
            }
        }

        writer.Add("tokenizer.chat_template", ChatTemplate);
        WriteTensors(writer, config, weightType, seed, tokens.Length);
        writer.WriteTo(outputPath);
    }

    /// <summary>
    /// Returns the path of the default model under <paramref name="directory"/> (normally models/generated/),
    /// generating it first if it is missing. Writes to a temporary file and renames, so a crash never leaves half a model.
    /// </summary>
    public static string EnsureDefaultModel(string directory, string? vocabularyPath = null)
    {
        var path = Path.Combine(directory, "dynamo-default-q8_0.gguf");
        if (File.Exists(path))
        {
            return path;
        }

        Directory.CreateDirectory(directory);
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            Generate(LlamaModelConfig.Default, GgmlType.Q8_0, DefaultSeed, vocabularyPath ?? DefaultVocabularyPath, temp);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
        }

        return path;
    }

    private static void WriteMetadata(GgufWriter w, LlamaModelConfig c, GgmlType type, int vocabSize)
    {
        var a = c.Architecture;
        w.Add("general.architecture", a);
        w.Add("general.name", c.Name);
        w.Add("general.file_type", type switch { GgmlType.F32 => 0u, GgmlType.F16 => 1u, GgmlType.Q4_0 => 2u, _ => 7u });
        w.Add($"{a}.vocab_size", (uint)vocabSize);
        w.Add($"{a}.context_length", (uint)c.ContextLength);
        w.Add($"{a}.embedding_length", (uint)c.EmbeddingLength);
        w.Add($"{a}.block_count", (uint)c.LayerCount);
        w.Add($"{a}.feed_forward_length", (uint)c.FeedForwardLength);
        w.Add($"{a}.attention.head_count", (uint)c.HeadCount);
        w.Add($"{a}.attention.head_count_kv", (uint)c.KvHeadCount);
        w.Add($"{a}.attention.layer_norm_rms_epsilon", c.RmsEpsilon);
        w.Add($"{a}.rope.freq_base", c.RopeFreqBase);
        w.Add($"{a}.rope.dimension_count", (uint)c.HeadDim);
    }

    private static void WriteTensors(GgufWriter w, LlamaModelConfig c, GgmlType type, ulong seed, int vocab)
    {
        var rng = new SplitMix64(seed);
        var e = c.EmbeddingLength;
        var q = c.HeadCount * c.HeadDim;
        var kv = c.KvHeadCount * c.HeadDim;
        var ff = c.FeedForwardLength;

        // Standard deviations 1/sqrt(fan_in) keep every projection's output near unit scale,
        // and the tied head then gives logits of unit scale too.
        void Matrix(string name, int cols, int rows) =>
            w.AddTensor(name, [cols, rows], type, TensorEncoding.Encode(rng.Uniform(checked(cols * rows), 1.0 / Math.Sqrt(cols)), type));
        void Norm(string name, int n) =>
            w.AddTensor(name, [n], GgmlType.F32, TensorEncoding.Encode(rng.Around(n, 1.0, 0.1), GgmlType.F32));
        void Bias(string name, int n) =>
            w.AddTensor(name, [n], GgmlType.F32, TensorEncoding.Encode(rng.Uniform(n, 0.1), GgmlType.F32));

        Matrix("token_embd.weight", e, vocab);
        Norm("output_norm.weight", e);
        if (!c.TiedOutput)
        {
            Matrix("output.weight", e, vocab);
        }

        for (var l = 0; l < c.LayerCount; l++)
        {
            var p = $"blk.{l}.";
            Norm(p + "attn_norm.weight", e);
            Matrix(p + "attn_q.weight", e, q);
            Matrix(p + "attn_k.weight", e, kv);
            Matrix(p + "attn_v.weight", e, kv);
            if (c.Architecture == "qwen2")
            {
                Bias(p + "attn_q.bias", q);
                Bias(p + "attn_k.bias", kv);
                Bias(p + "attn_v.bias", kv);
            }

            Matrix(p + "attn_output.weight", q, e);
            Norm(p + "ffn_norm.weight", e);
            Matrix(p + "ffn_gate.weight", e, ff);
            Matrix(p + "ffn_up.weight", e, ff);
            Matrix(p + "ffn_down.weight", ff, e);
        }
    }

    /// <summary>SplitMix64: tiny, fast, and identical on every platform (no transcendental functions).</summary>
    private sealed class SplitMix64(ulong seed)
    {
        private ulong _state = seed;

        /// <summary>Uniform values with the given standard deviation (half-width std·√3).</summary>
        public float[] Uniform(int n, double std) => Around(n, 0.0, std * Math.Sqrt(3.0));

        /// <summary>Uniform values in [center − halfWidth, center + halfWidth).</summary>
        public float[] Around(int n, double center, double halfWidth)
        {
            var values = new float[n];
            for (var i = 0; i < n; i++)
            {
                var u = (Next() >> 40) * (1.0 / (1 << 24));
                values[i] = (float)(center + ((2.0 * u) - 1.0) * halfWidth);
            }

            return values;
        }

        private ulong Next()
        {
            var z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }
}
