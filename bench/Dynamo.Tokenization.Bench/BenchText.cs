using System.Text;

namespace Dynamo.Tokenization.Bench;

/// <summary>
/// A deterministic mixed corpus shaped like router traffic: English prose, source code, CJK text, numbers and emoji.
/// Seeded, so every run and machine tokenizes the same bytes.
/// </summary>
internal static class BenchText
{
    private static readonly string[] s_words =
    [
        "the", "model", "router", "request", "cache", "token", "worker", "latency", "prefill", "decode", "block", "memory",
        "quickly", "distributed", "inference", "serving", "throughput", "scheduler", "between", "because", "however", "system",
        "Transformer", "attention", "weights", "users", "answer", "question", "it's", "don't", "we'll", "they're", "can't",
        "configuration", "performance", "measured", "approximately", "benchmark", "seconds", "milliseconds", "Kubernetes",
    ];

    private static readonly string[] s_code =
    [
        "public sealed class KvBlock\n{\n    private readonly int[] _tokens = new int[16];\n\n    public ulong Hash { get; init; }\n}\n",
        "def route(request, workers):\n    best = min(workers, key=lambda w: w.cost(request))\n    return best.id  # ties -> fewer blocks\n",
        "for (var i = 0; i < blocks.Length; i++)\n{\n    hash = XxHash3.Hash(hash, blocks[i]);\n}\n",
        "if (queue.Count > options.MaxQueued) { return Results.StatusCode(503); }\n",
        "    {\"model\": \"llama-3-8b\", \"max_tokens\": 256, \"temperature\": 0.7, \"stream\": true}\n",
    ];

    private static readonly string[] s_cjk =
    [
        "我想在苹果公司工作，但是我还需要学习更多的知识。", "今天的天气非常好，我们一起去公园散步吧。", "分布式推理服务需要高效的调度器。",
        "東京は日本の首都です。", "キャッシュのヒット率が上がりました。", "한국어 문장도 조금 포함합니다.",
    ];

    private static readonly string[] s_emoji = ["🚀", "😁", "🦙", "✅", "🌫️", "👍🏽"];

    public static string Build(int targetBytes)
    {
        var random = new Random(1337);
        var sb = new StringBuilder(targetBytes + 1024);
        while (Encoding.UTF8.GetByteCount(sb.ToString()) < targetBytes)
        {
            for (var paragraph = 0; paragraph < 20; paragraph++)
            {
                switch (random.Next(10))
                {
                    case < 6:
                        AppendProse(sb, random);
                        break;
                    case < 8:
                        sb.Append(s_code[random.Next(s_code.Length)]);
                        break;
                    case 8:
                        sb.Append(s_cjk[random.Next(s_cjk.Length)]).Append(s_cjk[random.Next(s_cjk.Length)]).Append('\n');
                        break;
                    default:
                        sb.Append("Order #").Append(random.Next(100000, 9999999)).Append(" shipped on 2024-")
                            .Append(random.Next(1, 13).ToString("00", System.Globalization.CultureInfo.InvariantCulture))
                            .Append(' ').Append(s_emoji[random.Next(s_emoji.Length)]).Append('\n');
                        break;
                }
            }
        }

        return sb.ToString();
    }

    private static void AppendProse(StringBuilder sb, Random random)
    {
        var sentences = random.Next(2, 6);
        for (var s = 0; s < sentences; s++)
        {
            var words = random.Next(6, 18);
            for (var w = 0; w < words; w++)
            {
                var word = s_words[random.Next(s_words.Length)];
                sb.Append(w == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : word);
                sb.Append(w == words - 1 ? (random.Next(4) == 0 ? "? " : ". ") : (random.Next(8) == 0 ? ", " : " "));
            }
        }

        sb.Append("\n\n");
    }
}
