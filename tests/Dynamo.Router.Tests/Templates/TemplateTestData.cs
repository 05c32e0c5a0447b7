using System.Text.Json;
using Dynamo.TestSupport;

namespace Dynamo.Router.Tests.Templates;

/// <summary>Locates the expected renders written by generate_expected.py (jinja2 configured as transformers does).</summary>
internal static class TemplateTestData
{
    /// <summary>The instant generate_expected.py freezes strftime_now at (2024-07-26 09:05:03, local = UTC here).</summary>
    public static readonly DateTimeOffset FixedNow = new(2024, 7, 26, 9, 5, 3, TimeSpan.Zero);

    public static string Directory => Path.Combine(RepoPaths.Root, "tests", "Dynamo.Router.Tests", "Templates", "TestData");

    public static string TemplatesDirectory => RepoPaths.Fixture("chat-templates");

    public static string Path_(params string[] parts) => Path.Combine([Directory, .. parts]);

    public static JsonElement ReadJson(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.Clone();
    }

    public static (string? Bos, string? Eos) Tokens(string templateFile)
    {
        var models = ReadJson(Path_("models.json"));
        var entry = models.GetProperty(templateFile);
        return (entry.GetProperty("bos_token").GetString(), entry.GetProperty("eos_token").GetString());
    }
}

/// <summary>A clock frozen at one instant, in UTC, for strftime_now.</summary>
internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now.ToUniversalTime();

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;
}
