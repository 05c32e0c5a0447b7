using System.Diagnostics;
using System.Globalization;
using Dynamo.Runtime.Guided;
using Dynamo.Runtime.Tokenization;

// Guided decoding cost per decode step: the token mask for the state after each token of a realistic tool-call
// document, by vocabulary; plus the one-off costs (token table per model, schema compile per request).
// Run: dotnet run -c Release --project bench/Dynamo.Guided.Bench [-- fixtures-dir [rounds]]
var fixtures = args.Length > 0 ? args[0] : FindFixtures();
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;

const string Schema = """
    {"type":"array","minItems":1,"items":{"anyOf":[
      {"type":"object","properties":{"name":{"const":"get_weather"},"arguments":{"type":"object","properties":{
        "city":{"type":"string"},"unit":{"enum":["celsius","fahrenheit"]},"days":{"type":"integer"}},"required":["city","unit"]}},"required":["name","arguments"]},
      {"type":"object","properties":{"name":{"const":"search"},"arguments":{"type":"object","properties":{
        "query":{"type":"string"},"filters":{"type":"array","items":{"type":"string"}}},"required":["query"]}},"required":["name","arguments"]}]}}
    """;
const string Document = """[{"name": "get_weather", "arguments": {"city": "San Francisco, California", "unit": "celsius", "days": 3}}, {"name": "search", "arguments": {"query": "best ramen near Union Square that is open late", "filters": ["open now", "rating > 4"]}}]""";

var compile = Stopwatch.StartNew();
const int Compiles = 200;
for (var i = 0; i < Compiles; i++)
{
    JsonSchemaGrammar.Compile(Schema);
}

var compileUs = compile.Elapsed.TotalMicroseconds / Compiles;
var grammar = JsonSchemaGrammar.Compile(Schema);
Console.WriteLine($"Guided decoding: mask per decode step along a {Document.Length}-byte tool-call document; {rounds} rounds; {Environment.ProcessorCount} cores, .NET {Environment.Version}");
Console.WriteLine($"Schema compile (two tools, anyOf): {compileUs:0.0} µs per request");
Console.WriteLine();
Console.WriteLine("| vocabulary | tokens | table build ms | steps | mask median µs | p90 µs | max µs | in-string median µs | structural median µs | allowed (median) |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var name in new[] { "llama-spm", "gpt-2", "qwen2" })
{
    var tokenizer = Tokenizer.FromFile(Path.Combine(fixtures, $"ggml-vocab-{name}.gguf"));
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
    for (var round = 0; round < rounds; round++)
    {
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
    }

    Console.WriteLine($"| {name} | {table.VocabSize} | {buildMs:0} | {tokens.Length} | {Median(all):0.0} | {Percentile(all, 0.9):0.0} | {all.Max():0.0} | {Median(inString):0.0} | {Median(structural):0.0} | {Median(allowed.Select(a => (double)a).ToList()):0} |");
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
