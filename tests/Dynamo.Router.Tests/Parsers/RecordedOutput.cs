using System.Text.Json;
using Dynamo.TestSupport;

namespace Dynamo.Router.Tests.Parsers;

/// <summary>
/// One model output from Data/*.json with what the parsers must make of it. No model that speaks these formats runs
/// here, so the outputs are written by hand in each family's format as its chat template (shared/fixtures/
/// chat-templates) and its reference parsers document it, including the slips real models make.
/// </summary>
internal sealed record RecordedOutput(
    string File,
    string Name,
    string? ToolCallParser,
    string? ReasoningParser,
    bool? StartsInReasoning,
    string Output,
    string? Content,
    string? Reasoning,
    IReadOnlyList<(string Name, string Arguments)> Calls)
{
    public static string Directory => Path.Combine(RepoPaths.Root, "tests", "Dynamo.Router.Tests", "Parsers", "Data");

    public static IReadOnlyList<RecordedOutput> All { get; } = Load();

    public static TheoryData<string, string> Names()
    {
        var data = new TheoryData<string, string>();
        foreach (var output in All)
        {
            data.Add(output.File, output.Name);
        }

        return data;
    }

    public static RecordedOutput Get(string file, string name) => All.Single(o => o.File == file && o.Name == name);

    private static List<RecordedOutput> Load()
    {
        var outputs = new List<RecordedOutput>();
        foreach (var path in System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal))
        {
            using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(path));
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                outputs.Add(new RecordedOutput(
                    Path.GetFileNameWithoutExtension(path),
                    item.GetProperty("name").GetString()!,
                    item.GetProperty("toolCallParser").GetString(),
                    item.GetProperty("reasoningParser").GetString(),
                    item.TryGetProperty("startsInReasoning", out var starts) ? starts.GetBoolean() : null,
                    item.GetProperty("output").GetString()!,
                    item.GetProperty("content").GetString(),
                    item.GetProperty("reasoning").GetString(),
                    [.. item.GetProperty("calls").EnumerateArray().Select(c =>
                        (c.GetProperty("name").GetString()!, c.GetProperty("arguments").GetString()!))]));
            }
        }

        return outputs;
    }
}
