using Dynamo.Runtime.Gguf;

namespace Dynamo.Replay.Tests;

public sealed class ReplayHarnessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("replay-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Read_WithSkip_ReturnsTheWindowAfterTheSkippedLines()
    {
        var path = Path.Combine(_dir, "trace.jsonl");
        File.WriteAllLines(path,
        [
            """{"timestamp": 0, "input_length": 10, "output_length": 1, "hash_ids": [1]}""",
            """{"timestamp": 5, "input_length": 600, "output_length": 2, "hash_ids": [1, 2]}""",
            """{"timestamp": 9, "input_length": 20, "output_length": 3, "hash_ids": [7]}""",
        ]);

        var window = TraceReader.Read(path, maxRequests: 1, skip: 1);

        var only = Assert.Single(window);
        Assert.Equal(5, only.TimestampMs);
        Assert.Equal([1L, 2L], only.HashIds);
        Assert.Throws<FormatException>(() => TraceReader.Read(path, maxRequests: 5, skip: 3));
    }

    [Fact]
    public void Compute_TraceRequests_CountsOnlyFullBlocksSeenBefore()
    {
        TraceRequest[] requests =
        [
            new(0, 1024, 1, [1, 2]),
            new(1, 1100, 1, [1, 2, 3]),   // blocks 1 and 2 seen: 1,024 of 1,100 tokens
            new(2, 300, 1, [3]),          // a partial block is never a hit, even when its id was seen
        ];

        var oracle = OracleHitRate.Compute(requests);

        Assert.Equal(1024.0 / (1024 + 1100 + 300), oracle, 9);
    }

    [Fact]
    public void Write_ModelWithWeights_KeepsItsMetadataDropsTheTensorsAndSetsTheContext()
    {
        var model = Path.Combine(_dir, "model.gguf");
        var writer = new GgufWriter();
        writer.Add("general.architecture", "llama");
        writer.Add("llama.context_length", 4096u);
        writer.AddArray("tokenizer.ggml.tokens", ["<unk>", "<s>", "</s>", "hello"]);
        writer.AddArray<float>("tokenizer.ggml.scores", [0f, 0f, 0f, -1.5f]);
        writer.Add("tokenizer.ggml.bos_token_id", 1u);
        writer.Add("tokenizer.chat_template", "{{ messages }}");
        writer.AddTensor("token_embd.weight", [32, 4], GgmlType.F32, new byte[32 * 4 * 4]);
        writer.WriteTo(model);
        var card = Path.Combine(_dir, "card.gguf");

        RouterModelCard.Write(model, 65_536, card);

        using var copy = GgufReader.Open(card);
        Assert.Equal(4096, RouterModelCard.ContextLength(model));
        Assert.Equal(65_536, RouterModelCard.ContextLength(card));
        Assert.Empty(copy.Tensors);
        Assert.Equal(["<unk>", "<s>", "</s>", "hello"], copy.GetStringArray("tokenizer.ggml.tokens").ToArray());
        Assert.Equal([0f, 0f, 0f, -1.5f], copy.GetArray<float>("tokenizer.ggml.scores"));
        Assert.Equal(1u, copy.GetUInt32("tokenizer.ggml.bos_token_id"));
        Assert.Equal("{{ messages }}", copy.GetString("tokenizer.chat_template"));
    }
}
