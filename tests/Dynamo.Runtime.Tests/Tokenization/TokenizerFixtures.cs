using System.Collections.Concurrent;
using System.Text;
using Dynamo.Runtime.Tokenization;
using Dynamo.TestSupport;

namespace Dynamo.Runtime.Tests.Tokenization;

/// <summary>
/// The vocabularies and reference tokenizations in shared/fixtures/tokenizers, read the way llama.cpp's
/// test-tokenizer-0 reads them: the .inp file is split on "\n__ggml_vocab_test__\n" (so the newline before and after
/// each separator belongs to the separator), and line i of the .out file holds the ids of case i.
/// </summary>
internal static class TokenizerFixtures
{
    public static readonly string[] VocabNames = ["llama-spm", "gpt-2", "llama-bpe", "qwen2"];

    private static readonly ConcurrentDictionary<string, Lazy<ITokenizer>> s_tokenizers = new();
    private static readonly ConcurrentDictionary<string, Lazy<IReadOnlyList<(string Text, int[] Expected)>>> s_cases = new();

    public static string VocabPath(string name) => RepoPaths.Fixture("tokenizers", $"ggml-vocab-{name}.gguf");

    public static ITokenizer Load(string name) =>
        s_tokenizers.GetOrAdd(name, n => new Lazy<ITokenizer>(() => Tokenizer.FromFile(VocabPath(n)))).Value;

    public static IReadOnlyList<(string Text, int[] Expected)> Cases(string name) =>
        s_cases.GetOrAdd(name, n => new Lazy<IReadOnlyList<(string, int[])>>(() => ReadCases(VocabPath(n)))).Value;

    public static IReadOnlyList<string> SplitInputs(string raw)
    {
        const string separator = "\n__ggml_vocab_test__\n";
        var inputs = new List<string>();
        var pos = 0;
        while (pos < raw.Length)
        {
            var next = raw.IndexOf(separator, pos, StringComparison.Ordinal);
            if (next < 0)
            {
                inputs.Add(raw[pos..]);
                break;
            }

            inputs.Add(raw[pos..next]);
            pos = next + separator.Length;
        }

        return inputs;
    }

    private static List<(string, int[])> ReadCases(string vocabPath)
    {
        var inputs = SplitInputs(Encoding.UTF8.GetString(File.ReadAllBytes(vocabPath + ".inp")));
        var outputs = Encoding.UTF8.GetString(File.ReadAllBytes(vocabPath + ".out")).Split('\n');
        var lines = outputs[^1].Length == 0 ? outputs[..^1] : outputs;
        if (lines.Length != inputs.Count)
        {
            throw new InvalidDataException($"{vocabPath}: {inputs.Count} inputs but {lines.Length} expected outputs.");
        }

        var cases = new List<(string, int[])>(inputs.Count);
        for (var i = 0; i < inputs.Count; i++)
        {
            var ids = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(int.Parse)
                .ToArray();
            cases.Add((inputs[i], ids));
        }

        return cases;
    }
}
