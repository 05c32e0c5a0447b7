using System.Diagnostics;
using System.Globalization;
using Dynamo.Runtime.Guided;
using Dynamo.Runtime.Tokenization;

// Guided decoding cost per decode step: the token mask for the state after each token of a realistic tool-call
// document, by vocabulary; plus the one-off costs (token table per model, schema compile per request).
// Run: dotnet run -c Release --project bench/Dynamo.Guided.Bench [-- fixtures-dir [rounds]]
var fixtures = args.Length > 0 ? args[0] : FindFixtures();
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 40;

const string Schema = """
    {"type":"array","minItems":1,"items":{"anyOf":[
      {"type":"object","properties":{"name":{"const":"get_weather"},"arguments":{"type":"object","properties":{
        "city":{"type":"string"},"unit":{"enum":["celsius","fahrenheit"]},"days":{"type":"integer"}},"required":["city","unit"]}},"required":["name","arguments"]},
      {"type":"object","properties":{"name":{"const":"search"},"arguments":{"type":"object","properties":{
        "query":{"type":"string"},"filters":{"type":"array","items":{"type":"string"}}},"required":["query"]}},"required":["name","arguments"]}]}}
    """;
const string Document = """[{"name": "get_weather", "arguments": {"city": "San Francisco, California", "unit": "celsius", "days": 3}}, {"name": "search", "arguments": {"query": "best ramen near Union Square that is open late", "filters": ["open now", "rating > 4"]}}]""";

for (var i = 0; i < 50; i++)
{
    JsonSchemaGrammar.Compile(Schema);
}

var compile = Stopwatch.StartNew();
var compileCpu = Process.GetCurrentProcess().TotalProcessorTime;
const int Compiles = 1000;
for (var i = 0; i < Compiles; i++)
{
    JsonSchemaGrammar.Compile(Schema);
}

var compileUs = compile.Elapsed.TotalMicroseconds / Compiles;
var compileCpuUs = (Process.GetCurrentProcess().TotalProcessorTime - compileCpu).TotalMicroseconds / Compiles;
var grammar = JsonSchemaGrammar.Compile(Schema);
Console.WriteLine($"Guided decoding: mask per decode step along a {Document.Length}-byte tool-call document; {rounds} rounds; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine($"Schema compile (two tools, anyOf): {compileUs:0.0} µs wall, {compileCpuUs:0.0} µs CPU per request");
Console.WriteLine();
Console.WriteLine("Wall µs per mask (median / p90 / p99) and process CPU µs per mask (mean): on a shared machine the wall clock also counts waiting.");
Console.WriteLine();
Console.WriteLine("| vocabulary | tokens | table build ms | steps | median | p90 | p99 | CPU mean | in-string median | structural median | allowed (median) |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
var warm = true;
foreach (var name in new[] { "llama-spm", "llama-spm", "gpt-2", "qwen2" })
{
    var tokenizer = Tokenizer.FromFile(Path.Combine(fixtures, $"ggml-vocab-{name}.gguf"));
    // Built twice: the first build also pays for JIT compilation; the figure is the second.
    GuidedTokenTable.FromTokenizer(tokenizer);
    var build = Stopwatch.StartNew();
    var table = GuidedTokenTable.FromTokenizer(tokenizer);
    var buildMs = build.Elapsed.TotalMilliseconds;
    var tokens = tokenizer.Encode(Document, addSpecial: false);
    var computer = new TokenMaskComputer(table);
    var mask = new ulong[table.MaskWords];
    var all = new List<double>();
    var inString = new List<double>();
    var structural = new List<double>();
    var allowed = new List<int>();
    var cpu = TimeSpan.Zero;
    for (var round = 0; round < rounds; round++)
    {
        var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        var matcher = new JsonGrammarMatcher(grammar);
        foreach (var token in tokens)
        {
            var start = Stopwatch.GetTimestamp();
            var count = computer.Compute(matcher, mask);
            var us = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            if ((mask[token >> 6] & (1UL << token)) == 0)
            {
                throw new InvalidOperationException($"{name}: the document's token {token} is masked out.");
            }

            // The first round warms the JIT; it is not measured.
            if (round > 0)
            {
                all.Add(us);
                (count > table.VocabSize / 2 ? inString : structural).Add(us);
                allowed.Add(count);
            }

            if (!matcher.TryAdvance(table.Piece(token)))
            {
                throw new InvalidOperationException($"{name}: token {token} does not continue the document.");
            }
        }

        if (round > 0)
        {
            cpu += Process.GetCurrentProcess().TotalProcessorTime - cpuStart;
        }
    }

    // The first pass only brings the matcher and walk to tiered JIT's optimized code (the first vocabulary measured
    // otherwise pays for it, about 3x on llama-spm).
    if (warm)
    {
        warm = false;
        continue;
    }

    Console.WriteLine($"| {name} | {table.VocabSize} | {buildMs:0} | {tokens.Length} | {Median(all):0.0} | {Percentile(all, 0.9):0.0} | {Percentile(all, 0.99):0.0} | {cpu.TotalMicroseconds / all.Count:0.0} | {Median(inString):0.0} | {Median(structural):0.0} | {Median(allowed.Select(a => (double)a).ToList()):0} |");
}

static double Median(List<double> values) => Percentile(values, 0.5);

static double Percentile(List<double> values, double p)
{
    if (values.Count == 0)
    {
        return double.NaN;
    }

    var sorted = values.Order().ToArray();
    return sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(p * sorted.Length))];
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
