using Dynamo.Runtime.Gguf;

namespace Dynamo.Worker.Models;

/// <summary>
/// <c>generate-model --preset tiny|default --out PATH [--type f32|f16|q8_0|q4_0] [--seed N] [--arch llama|qwen2] [--vocab PATH]</c>
/// plus shape overrides <c>--embd --layers --heads --kv-heads --ffn --untied</c> (e.g. K-quant-friendly shapes).
/// </summary>
public static class GenerateModelCommand
{
    public const string Name = "generate-model";

    public static bool IsInvocation(string[] args) => args.Length > 0 && args[0] == Name;

    public static int Run(ReadOnlySpan<string> args, TextWriter stdout, TextWriter stderr)
    {
        string? preset = null, output = null, vocab = null, arch = null;
        int? embd = null, layers = null, heads = null, kvHeads = null, ffn = null;
        var untied = false;
        var type = GgmlType.Q8_0;
        var seed = LlamaModelGenerator.DefaultSeed;
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                if (args[i] == "--untied")
                {
                    untied = true;
                    continue;
                }

                var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"Option {args[i]} needs a value.");
                switch (args[i])
                {
                    case "--preset": preset = value; break;
                    case "--out": output = value; break;
                    case "--vocab": vocab = value; break;
                    case "--arch": arch = value; break;
                    case "--seed": seed = ulong.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                    case "--type": type = ParseType(value); break;
                    case "--embd": embd = Int(value); break;
                    case "--layers": layers = Int(value); break;
                    case "--heads": heads = Int(value); break;
                    case "--kv-heads": kvHeads = Int(value); break;
                    case "--ffn": ffn = Int(value); break;
                    default: throw new ArgumentException($"Unknown option '{args[i]}'.");
                }

                i++;
            }

            if (preset is null || output is null)
            {
                throw new ArgumentException("--preset and --out are required.");
            }

            var config = LlamaModelConfig.FromPreset(preset);
            config = config with
            {
                Architecture = arch ?? config.Architecture,
                EmbeddingLength = embd ?? config.EmbeddingLength,
                LayerCount = layers ?? config.LayerCount,
                HeadCount = heads ?? config.HeadCount,
                KvHeadCount = kvHeads ?? config.KvHeadCount,
                FeedForwardLength = ffn ?? config.FeedForwardLength,
                TiedOutput = config.TiedOutput && !untied,
            };

            LlamaModelGenerator.Generate(config, type, seed, vocab ?? LlamaModelGenerator.DefaultVocabularyPath, output);
            stdout.WriteLine($"wrote {output} ({new FileInfo(output).Length / (1024.0 * 1024.0):F1} MiB, {preset}, {config.Architecture}, {type}, seed {seed})");
            return 0;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or IOException or InvalidDataException or OverflowException)
        {
            stderr.WriteLine($"generate-model: {ex.Message}");
            stderr.WriteLine("usage: generate-model --preset tiny|default --out PATH [--type f32|f16|q8_0|q4_0] [--seed N] [--arch llama|qwen2] [--vocab PATH]");
            stderr.WriteLine("       shape overrides: [--embd N] [--layers N] [--heads N] [--kv-heads N] [--ffn N] [--untied]");
            return 2;
        }
    }

    private static int Int(string value) => int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);

    private static GgmlType ParseType(string value) => value.ToLowerInvariant() switch
    {
        "f32" => GgmlType.F32,
        "f16" => GgmlType.F16,
        "q8_0" => GgmlType.Q8_0,
        "q4_0" => GgmlType.Q4_0,
        _ => throw new ArgumentException($"Unknown weight type '{value}' (f32, f16, q8_0, q4_0)."),
    };
}
