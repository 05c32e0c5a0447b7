using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dynamo.Runtime.Tokenization;
using Dynamo.Tokenization.Bench;

// Encode throughput per vocabulary kind on a deterministic mixed corpus.
// Usage: dotnet run -c Release --project bench/Dynamo.Tokenization.Bench [fixtures-dir] [corpus-KB]
var fixtures = args.Length > 0 ? args[0] : FindFixtures();
var corpusBytes = (args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 400) * 1024;
var text = BenchText.Build(corpusBytes);
var bytes = Encoding.UTF8.GetByteCount(text);
var mb = bytes / (1024.0 * 1024.0);

Console.WriteLine($"corpus: {bytes:N0} bytes (prose, code, CJK, numbers, emoji); {Environment.ProcessorCount} cores; .NET {Environment.Version}");
Console.WriteLine();
Console.WriteLine($"{"vocabulary",-12} {"kind",-14} {"load ms",8} {"tokens",9} {"B/token",8} {"cold MB/s",10} {"warm MB/s",10} {"special MB/s",13} {"alloc KB/run",13}");

foreach (var name in (string[])["llama-spm", "gpt-2", "llama-bpe", "qwen2"])
{
    var load = Stopwatch.StartNew();
    var tokenizer = Tokenizer.FromFile(Path.Combine(fixtures, $"ggml-vocab-{name}.gguf"));
    load.Stop();

    // Cold: the first pass over the corpus (BPE word cache empty, code not yet tiered up).
    var cold = Stopwatch.StartNew();
    var ids = tokenizer.Encode(text, addSpecial: false);
    cold.Stop();

    var output = new List<int>(ids.Length + 16);
    for (var i = 0; i < 3; i++)
    {
        output.Clear();
        tokenizer.Encode(text, output, addSpecial: false);
    }

    // Warm: steady state, best of several timed runs; encoding into a reused list.
    var best = double.MaxValue;
    long allocated = 0;
    const int runs = 8;
    for (var i = 0; i < runs; i++)
    {
        output.Clear();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        tokenizer.Encode(text, output, addSpecial: false);
        sw.Stop();
        allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        best = Math.Min(best, sw.Elapsed.TotalSeconds);
    }

    // parse_special = true, as the router encodes rendered chat templates.
    var bestSpecial = double.MaxValue;
    for (var i = 0; i < runs; i++)
    {
        output.Clear();
        var sw = Stopwatch.StartNew();
        tokenizer.Encode(text, output, addSpecial: false, parseSpecial: true);
        bestSpecial = Math.Min(bestSpecial, sw.Elapsed.TotalSeconds);
    }

    var kind = tokenizer.Model == TokenizerModel.Spm ? "spm" : $"bpe/{tokenizer.PreTokenizer}";
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name,-12} {kind,-14} {load.Elapsed.TotalMilliseconds,8:F0} {ids.Length,9:N0} {(double)bytes / ids.Length,8:F2} {mb / cold.Elapsed.TotalSeconds,10:F1} {mb / best,10:F1} {mb / bestSpecial,13:F1} {allocated / runs / 1024.0,13:F1}"));
}

static string FindFixtures()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Dynamo.Aspire.sln")))
        {
            return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "fixtures", "tokenizers"));
        }
    }

    throw new InvalidOperationException("Dynamo.Aspire.sln not found above the bench's output folder; pass the fixtures folder as the first argument.");
}
