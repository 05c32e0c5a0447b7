using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dynamo.AppHost.Orchestration;

/// <summary>Keeps <c>.dynamo/endpoints.json</c> current, so scripts and tools can find the cluster.</summary>
internal sealed class EndpointsFile(RunContext run)
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly Lock _gate = new();

    public string Path => run.EndpointsFile;

    public void Write(EndpointsDocument document)
    {
        var json = JsonSerializer.Serialize(document, JsonOptions);
        lock (_gate)
        {
            Directory.CreateDirectory(run.StateDirectory);
            // Write-then-rename: a reader never sees half a file.
            var temporary = Path + "." + Environment.ProcessId + ".tmp";
            File.WriteAllText(temporary, json);
            File.Move(temporary, Path, overwrite: true);
        }
    }

    /// <summary>Removes the file if it still describes this AppHost (another one may have started since).</summary>
    public void Delete()
    {
        lock (_gate)
        {
            try
            {
                string? runId;
                using (var document = JsonDocument.Parse(File.ReadAllText(Path)))
                {
                    runId = document.RootElement.TryGetProperty("runId", out var id) ? id.GetString() : null;
                }

                if (runId == run.RunId)
                {
                    File.Delete(Path);
                }
            }
            catch (Exception ex) when (ex is IOException or JsonException or UnauthorizedAccessException)
            {
                // Nothing to clean up, or not ours.
            }
        }
    }
}
