using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dynamo.Router.Api;
using Dynamo.Router.Models;
using Dynamo.Router.Templates;
using Dynamo.Runtime.Tokenization;

// Router front-end cost per chat request: parse the OpenAI body, render the chat template, tokenize the prompt
// (parse_special, as the router does) for a multi-turn chat of about 4k tokens.
// Usage: dotnet run -c Release --project bench/Dynamo.Router.Bench [iterations] [target-tokens]
var iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
var target = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4096;
var root = FindRoot();
var fixtures = Path.GetFullPath(Path.Combine(root, "..", "shared", "fixtures"));

var cases = new List<(string Name, ServedModel Model)>
{
    ("default model (llama-spm, zephyr)", ServedModel.Load("dynamo-default", Path.Combine(root, "models", "generated", "dynamo-default-q8_0.gguf"), null)),
    ("qwen2 vocab, Qwen2.5 template", Pair("ggml-vocab-qwen2.gguf", "Qwen-Qwen2.5-7B-Instruct.jinja", null, "<|im_end|>")),
    ("llama-bpe vocab, Llama-3.1 template", Pair("ggml-vocab-llama-bpe.gguf", "meta-llama-Llama-3.1-8B-Instruct.jinja", "<|begin_of_text|>", "<|eot_id|>")),
};

Console.WriteLine($"Dynamo.Router.Bench — {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}; {iterations} requests per case after 20 warm-up");
Console.WriteLine();
Console.WriteLine("| case | prompt tokens | body KB | parse p50 | render p50 | tokenize p50 | total p50 | total p99 | alloc KB/req |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var (name, model) in cases)
{
    var body = BuildChat(model, target);
    var bytes = Encoding.UTF8.GetBytes(body);
    var parse = new double[iterations];
    var render = new double[iterations];
    var encode = new double[iterations];
    var total = new double[iterations];
    var tokens = 0;
    long allocated = 0;
    for (var i = -20; i < iterations; i++)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var t0 = Stopwatch.GetTimestamp();
        using var document = JsonDocument.Parse(bytes);
        var request = document.RootElement.Deserialize(RouterJsonContext.Default.OpenAiRequest)!;
        var t1 = Stopwatch.GetTimestamp();
        var text = model.Template.Render(ChatTemplateRequest.FromOpenAiRequest(document.RootElement) with { Messages = MessageContent.Normalize(request.Messages!.Value) });
        var t2 = Stopwatch.GetTimestamp();
        var ids = model.Tokenizer.Encode(text, addSpecial: false, parseSpecial: true);
        var t3 = Stopwatch.GetTimestamp();
        if (i < 0)
        {
            continue;
        }

        allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        tokens = ids.Length;
        parse[i] = Ms(t0, t1);
        render[i] = Ms(t1, t2);
        encode[i] = Ms(t2, t3);
        total[i] = Ms(t0, t3);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {name} | {tokens} | {bytes.Length / 1024.0:0.0} | {P(parse, 0.5):0.000} ms | {P(render, 0.5):0.000} ms | {P(encode, 0.5):0.000} ms | {P(total, 0.5):0.000} ms | {P(total, 0.99):0.000} ms | {allocated / 1024.0 / iterations:0} |"));
}

ServedModel Pair(string vocabulary, string template, string? bos, string? eos) =>
    ServedModel.Create("bench", Tokenizer.FromFile(Path.Combine(fixtures, "tokenizers", vocabulary)),
        ChatTemplate.Load(Path.Combine(fixtures, "chat-templates", template), bos, eos), 131072);

// A system prompt and alternating user/assistant turns of varied prose, grown until the rendered prompt has `tokens` tokens.
static string BuildChat(ServedModel model, int tokens)
{
    string[] words = ["routing", "cache", "prefix", "token", "worker", "latency", "the", "a", "throughput", "scheduler", "block", "decode", "prefill", "of", "and", "with", "42", "GPU", "request", "stream"];
    var random = new Random(7);
    var messages = new List<object> { new { role = "system", content = "You are a helpful assistant that answers questions about LLM serving." } };
    while (true)
    {
        var turn = string.Join(' ', Enumerable.Range(0, 60).Select(_ => words[random.Next(words.Length)])) + "?";
        messages.Add(new { role = messages.Count % 2 == 1 ? "user" : "assistant", content = turn });
        var body = JsonSerializer.Serialize(new { model = "bench", messages, max_tokens = 16 });
        using var document = JsonDocument.Parse(body);
        var count = model.Tokenizer.Encode(model.Template.Render(ChatTemplateRequest.FromOpenAiRequest(document.RootElement)), addSpecial: false, parseSpecial: true).Length;
        if (count >= tokens && messages.Count % 2 == 0)
        {
            return body;
        }
    }
}

static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

static double P(double[] values, double quantile)
{
    var sorted = values.Order().ToArray();
    return sorted[Math.Min(sorted.Length - 1, (int)(quantile * sorted.Length))];
}

static string FindRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Dynamo.Aspire.sln")))
        {
            return dir.FullName;
        }
    }

    throw new InvalidOperationException("Run from inside the repository (Dynamo.Aspire.sln not found).");
}
